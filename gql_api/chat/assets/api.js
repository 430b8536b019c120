// Queries and mutations over HTTP, and uploads as GraphQL multipart requests.

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.code = errors[0]?.extensions?.code;
  }
}

export class Api {
  constructor(url, token) {
    this.url = url;
    this.token = token;
  }

  async request(body, headers = {}) {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.token}`, ...headers },
      body,
    });
    const result = await response.json();
    if (result.errors?.length) throw new GraphQLError(result.errors);
    return result.data;
  }

  query(query, variables = {}) {
    return this.request(JSON.stringify({ query, variables }), { "Content-Type": "application/json" });
  }

  /** One file, sent as the `file` variable (GraphQL multipart request spec). */
  upload(query, variables, file) {
    const form = new FormData();
    form.append("operations", JSON.stringify({ query, variables: { ...variables, file: null } }));
    form.append("map", JSON.stringify({ 0: ["variables.file"] }));
    form.append("0", file, file.name);
    return this.request(form);
  }
}
