/** Name of the OpenAPI security scheme that carries the API key (the Swagger UI's Authorize button). */
export const API_KEY_SECURITY = 'api-key';
