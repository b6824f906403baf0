// One entry per service: the definition selector at the top switches between the documents the
// services serve (through nginx, same origin, so "Try it out" sends the session cookie).
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: '/api/auth/openapi.json', name: 'auth-service' },
      { url: '/api/products/openapi.json', name: 'products-service' },
      { url: '/api/orders/openapi.json', name: 'orders-service' },
    ],
    'urls.primaryName': 'products-service',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // No call to validator.swagger.io (the page talks to this origin only).
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  })
})
