// Pforte's API console: Swagger UI with every API of the page's data-config in its selector.
// ?urls.primaryName=user/v1 selects an API; #clientId=…&tokenUrl=… pre-fills the client
// credentials sign-in. A token URL is taken only if it is a token endpoint of this origin
// (/t/{tenant}/token): a crafted link must not make the console send a secret elsewhere.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var config = JSON.parse(root.getAttribute("data-config"));
  var query = new URLSearchParams(window.location.search);
  var hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));

  function ownTokenUrl(value) {
    if (!value) return null;
    var url;
    try {
      url = new URL(value, window.location.origin);
    } catch (e) {
      return null;
    }
    if (url.origin !== window.location.origin) return null;
    if (!/^\/t\/[a-z0-9][a-z0-9-]{0,62}\/token$/.test(url.pathname) || url.search || url.hash) return null;
    return url.href;
  }

  var tokenUrl = ownTokenUrl(hash.get("tokenUrl"));
  var clientId = hash.get("clientId");
  var names = config.urls.map(function (u) { return u.name; });
  var primary = query.get("urls.primaryName");

  function withTokenUrl(response) {
    // The documents name /t/system/token; the link's tenant is put in before Swagger UI reads one.
    if (!tokenUrl || !response || !response.url || !/\/openapi\.json$/.test(response.url)) return response;
    try {
      var doc = JSON.parse(response.text);
      var scheme = doc.components && doc.components.securitySchemes && doc.components.securitySchemes.oauth2;
      if (scheme && scheme.flows && scheme.flows.clientCredentials) {
        scheme.flows.clientCredentials.tokenUrl = tokenUrl;
        response.text = JSON.stringify(doc);
        response.body = doc;
        response.data = response.text;
        response.obj = doc;
      }
    } catch (e) {
      /* not JSON: Swagger UI reports it */
    }
    return response;
  }

  var ui = SwaggerUIBundle({
    urls: config.urls,
    "urls.primaryName": names.indexOf(primary) >= 0 ? primary : names[0],
    dom_id: "#swagger-ui",
    layout: "StandaloneLayout",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    deepLinking: false,
    persistAuthorization: false,
    responseInterceptor: withTokenUrl,
  });
  if (clientId) {
    ui.initOAuth({ clientId: clientId });
  }
  window.ui = ui;
})();
