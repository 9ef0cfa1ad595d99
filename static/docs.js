// Starts the vendored Swagger UI on /docs (an inline script would be refused by our CSP).
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never send our schema to an outside validator
  });
});
