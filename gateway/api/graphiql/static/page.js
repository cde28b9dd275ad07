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

  // GraphiQL 3 saves every run's headers in its history and favourites (localStorage), even
  // with shouldPersistHeaders off: a pasted bearer token would stay on disk after the tab is
  // closed. They are saved here without headers (the open tab's history keeps them).
  var NAMESPACE = "graphiql:";
  var SAVED_WITHOUT_HEADERS = { "graphiql:queries": true, "graphiql:favorites": true };

  function withoutHeaders(value) {
    var saved = JSON.parse(value);
    Object.keys(saved).forEach(function (list) {
      saved[list].forEach(function (item) {
        delete item.headers;
      });
    });
    return JSON.stringify(saved);
  }

  var storage = {
    getItem: function (key) {
      return window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      if (SAVED_WITHOUT_HEADERS[key]) {
        value = withoutHeaders(value);
      }
      window.localStorage.setItem(key, value);
    },
    removeItem: function (key) {
      window.localStorage.removeItem(key);
    },
    get length() {
      return Object.keys(window.localStorage).filter(function (key) {
        return key.indexOf(NAMESPACE) === 0;
      }).length;
    },
    clear: function () {
      Object.keys(window.localStorage).forEach(function (key) {
        if (key.indexOf(NAMESPACE) === 0) {
          window.localStorage.removeItem(key);
        }
      });
    },
  };

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
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
