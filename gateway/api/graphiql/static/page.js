// GraphiQL for the availability gateway. A static file, not an inline script, so that the
// page works under `Content-Security-Policy: script-src 'self'`.
(function () {
  "use strict";

  var EXAMPLE_QUERY = [
    "# Availability in the demo shop (data/demo-catalog.json).",
    "#",
    "# Run: Ctrl+Enter or the ▶ button. Docs, History and the",
    "# Explorer are in the bar on the left.",
    "# Back-office operations need a token: in Headers below,",
    "#   {\"Authorization\": \"Bearer <token>\"}",
    "",
    "query DemoAvailability {",
    "  availability(",
    "    channel: \"eu_website\"",
    "    skus: [\"TENT-TRAIL-2P\", \"JKT-SUMMIT-M\", \"FABRIC-RIPSTOP-ORANGE\"]",
    "  ) {",
    "    sku",
    "    stockStatus",
    "    salableQty",
    "    onlyXLeft",
    "    backorders",
    "    quantityRule {",
    "      minimum",
    "      maximum",
    "      increment",
    "      allowsDecimals",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  // The page is served by GET /graphql itself: queries go to the same URL, and
  // subscriptions (graphql-transport-ws) to the same URL over ws:// or wss://.
  var fetchUrl = window.location.href.split(/[?#]/)[0];
  var subscriptionUrl = new URL(fetchUrl);
  subscriptionUrl.protocol = subscriptionUrl.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: fetchUrl,
    subscriptionUrl: subscriptionUrl.toString(),
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: EXAMPLE_QUERY,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // A pasted bearer token stays in this tab's memory only: never in localStorage,
      // where any script of this origin could read it long after the session.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
