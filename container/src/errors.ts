/** An OIP error: the protocol's body is `{"error": "<message>"}` with an HTTP status. */
export class OipError extends Error {
  constructor(readonly status: 400 | 404 | 413 | 503, message: string) {
    super(message);
  }
}
