// Composes subgraphs offline with @apollo/composition (what `rover supergraph compose` runs).
// stdin: [{"name": ..., "url": ..., "sdl": ...}, ...]
// stdout: {"errors": [messages]} or {"supergraphSdl": ..., "apiSchema": ..., "hints": [...]}
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse, printSchema } from "graphql";

const subgraphs = JSON.parse(readFileSync(0, "utf8")).map((s) => ({
  name: s.name,
  url: s.url,
  typeDefs: parse(s.sdl),
}));
const result = composeServices(subgraphs);
if (result.errors) {
  console.log(JSON.stringify({ errors: result.errors.map((e) => e.message) }));
} else {
  console.log(JSON.stringify({
    supergraphSdl: result.supergraphSdl,
    apiSchema: printSchema(result.schema.toAPISchema().toGraphQLJSSchema()),
    hints: result.hints.map((h) => h.toString()),
  }));
}
