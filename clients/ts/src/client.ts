// A small typed client for the kaidian API. Paths, methods, parameters,
// bodies and answers are checked against `paths`, the types openapi-typescript
// generates from the server's /openapi.json (src/schema.d.ts). The transport
// is pluggable: fetch (Node 18+, browsers) by default, wx.request in a mini
// program (see wx.ts).
import type { paths } from "./schema.js";
import type { ErrorCode } from "./error-codes.js";

export type { paths, components, operations } from "./schema.js";
export type { ErrorCode } from "./error-codes.js";

export type Method = "get" | "post" | "put" | "patch" | "delete";

/** The paths that have an operation for method M. */
export type PathsFor<M extends Method> = {
  [P in keyof paths]: [NonNullable<paths[P][M & keyof paths[P]]>] extends [never] ? never : P;
}[keyof paths];

/** The operation object of method M on path P. */
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M & keyof paths[P]]>;

type Params<O> = O extends { parameters: infer X } ? X : never;
type Field<T, K extends string> = [T] extends [never] ? never : K extends keyof T ? Exclude<T[K], undefined> : never;

/** Path parameters: the schema says string; ids may be passed as numbers. */
export type PathParams<O> = [Field<Params<O>, "path">] extends [never] ? never : { [K in keyof Field<Params<O>, "path">]: string | number };
export type QueryParams<O> = Field<Params<O>, "query">;
export type RequestBody<O> = O extends { requestBody?: infer RB }
  ? [NonNullable<RB>] extends [never]
    ? never
    : NonNullable<RB> extends { content: { "application/json": infer B } }
      ? B
      : never
  : never;

type JSONContent<R> = R extends { content: { "application/json": infer J } } ? J : undefined;
type SuccessStatus = 200 | 201 | 202 | 204;
/** The JSON body of the operation's success answer (undefined for 204). */
export type ResponseBody<O> = O extends { responses: infer R }
  ? { [S in keyof R]: S extends SuccessStatus ? JSONContent<R[S]> : never }[keyof R]
  : never;

type Headers<O> = Field<Params<O>, "header">;
type NeedsIdempotencyKey<O> = [Headers<O>] extends [never] ? false : Headers<O> extends { "Idempotency-Key": string } ? true : false;
type TakesIdempotencyKey<O> = [Headers<O>] extends [never] ? false : "Idempotency-Key" extends keyof Headers<O> ? true : false;

/** What a call passes besides the method and path. */
export type RequestInit<O> = ([PathParams<O>] extends [never] ? { path?: undefined } : { path: PathParams<O> }) &
  ([QueryParams<O>] extends [never] ? { query?: undefined } : { query?: QueryParams<O> }) &
  ([RequestBody<O>] extends [never] ? { body?: undefined } : { body: RequestBody<O> }) &
  (NeedsIdempotencyKey<O> extends true
    ? { idempotencyKey: string }
    : TakesIdempotencyKey<O> extends true
      ? { idempotencyKey?: string }
      : { idempotencyKey?: undefined }) & {
    /** More request headers (X-Shop-Id for operators, …). */
    headers?: Record<string, string>;
  };

type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
/** The init argument, optional when nothing in it is required. */
export type InitArgs<O> = [RequiredKeys<RequestInit<O>>] extends [never] ? [init?: RequestInit<O>] : [init: RequestInit<O>];

/** One HTTP exchange, as a transport sees it. */
export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** JSON text, or undefined for no body. */
  body?: string;
}

export interface TransportResponse {
  status: number;
  /** Header lookup, case-insensitive. */
  header(name: string): string | undefined;
  /** The body as text ("" when empty). */
  text: string;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** An error answer of the server ({code, message, fields}), or a failure to reach it. */
export class KaidianError extends Error {
  /** HTTP status; 0 when the server was not reached. */
  readonly status: number;
  /** The server's stable code (a program may branch on it); network_error or invalid_response from the client itself. */
  readonly code: ErrorCode;
  /** The input fields at fault, with a message each. */
  readonly fields: Record<string, string>;
  /** Seconds to wait before trying again (429). */
  readonly retryAfter?: number;
  /** The request id the server logged (X-Request-Id). */
  readonly requestId?: string;
  constructor(status: number, code: ErrorCode, message: string, fields?: Record<string, string> | null, retryAfter?: number, requestId?: string) {
    super(message || code);
    this.name = "KaidianError";
    this.status = status;
    this.code = code;
    this.fields = fields ?? {};
    this.retryAfter = retryAfter;
    this.requestId = requestId;
  }
}

export interface ClientOptions {
  /** The server, e.g. http://127.0.0.1:8080 (no trailing slash needed). */
  baseUrl: string;
  /** The mini program's appid, sent as X-Appid (routes of the shop before login). */
  appid?: string;
  /** The buyer's (or staff member's) session token, sent as Authorization: Bearer. A function is asked on every call. */
  token?: string | (() => string | undefined | null);
  /** How requests go out; default: fetch. */
  transport?: Transport;
  /** Called with every error answer before it is thrown (e.g. log in again on 401). */
  onError?: (err: KaidianError) => void;
}

/** The part of fetch the fetch transport uses (declared here so the client needs no DOM types). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/** A fetch-based transport (Node 18+, browsers); fetchFn defaults to the global fetch. */
export function fetchTransport(fetchFn?: FetchLike): Transport {
  return async (req) => {
    const f = fetchFn ?? (globalThis as unknown as { fetch?: FetchLike }).fetch;
    if (!f) throw new KaidianError(0, "network_error", "no fetch here: pass a transport (wxTransport(wx) in a mini program)");
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await f(req.url, { method: req.method, headers: req.headers, body: req.body });
    } catch (e) {
      throw new KaidianError(0, "network_error", e instanceof Error ? e.message : String(e));
    }
    const text = await res.text();
    return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text };
  };
}

function fillPath(template: string, params: Record<string, string | number> | undefined): string {
  return template.replace(/\{([a-zA-Z_]+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined || v === "") throw new KaidianError(0, "invalid_id", `path parameter ${name} is missing`);
    return encodeURIComponent(String(v));
  });
}

function queryString(q: Record<string, unknown> | undefined): string {
  if (!q) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(one))}`);
  }
  return parts.length ? "?" + parts.join("&") : "";
}

/** A new random Idempotency-Key (32 hex characters). Keep it for the retries of one action. */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as unknown as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256); // mini programs: no synchronous crypto
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Client {
  readonly baseUrl: string;
  appid?: string;
  private token?: ClientOptions["token"];
  private readonly transport: Transport;
  private readonly onError?: (err: KaidianError) => void;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.appid = opts.appid;
    this.token = opts.token;
    this.transport = opts.transport ?? fetchTransport();
    this.onError = opts.onError;
  }

  /** Sets (or clears) the session token sent as Authorization: Bearer. */
  setToken(token: string | undefined | null): void {
    this.token = token ?? undefined;
  }

  private currentToken(): string | undefined {
    const t = typeof this.token === "function" ? this.token() : this.token;
    return t || undefined;
  }

  /** Calls method on path; answers the success body or throws KaidianError. */
  async request<M extends Method, P extends PathsFor<M>>(method: M, path: P, ...args: InitArgs<Operation<P, M>>): Promise<ResponseBody<Operation<P, M>>> {
    const init = (args[0] ?? {}) as {
      path?: Record<string, string | number>;
      query?: Record<string, unknown>;
      body?: unknown;
      idempotencyKey?: string;
      headers?: Record<string, string>;
    };
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.appid) headers["X-Appid"] = this.appid;
    const token = this.currentToken();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    if (init.idempotencyKey) headers["Idempotency-Key"] = init.idempotencyKey;
    let body: string | undefined;
    if (init.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(init.body);
    }
    Object.assign(headers, init.headers);
    const url = this.baseUrl + fillPath(path as string, init.path) + queryString(init.query);
    const res = await this.transport({ method: method.toUpperCase(), url, headers, body });
    if (res.status >= 200 && res.status < 300) {
      if (res.status === 204 || res.text === "") return undefined as ResponseBody<Operation<P, M>>;
      try {
        return JSON.parse(res.text) as ResponseBody<Operation<P, M>>;
      } catch {
        throw this.fail(new KaidianError(res.status, "invalid_response", "the answer is not JSON"));
      }
    }
    let code: string = `http_${res.status}`;
    let message = "";
    let fields: Record<string, string> | null = null;
    try {
      const e = JSON.parse(res.text) as { code?: string; message?: string; fields?: Record<string, string> | null };
      if (typeof e.code === "string") code = e.code;
      message = e.message ?? "";
      fields = e.fields ?? null;
    } catch {
      message = res.text.slice(0, 200);
    }
    const ra = res.header("Retry-After");
    throw this.fail(new KaidianError(res.status, code as ErrorCode, message, fields, ra ? Number(ra) : undefined, res.header("X-Request-Id")));
  }

  private fail(err: KaidianError): KaidianError {
    this.onError?.(err);
    return err;
  }

  GET<P extends PathsFor<"get">>(path: P, ...args: InitArgs<Operation<P, "get">>) {
    return this.request("get", path, ...args);
  }
  POST<P extends PathsFor<"post">>(path: P, ...args: InitArgs<Operation<P, "post">>) {
    return this.request("post", path, ...args);
  }
  PUT<P extends PathsFor<"put">>(path: P, ...args: InitArgs<Operation<P, "put">>) {
    return this.request("put", path, ...args);
  }
  PATCH<P extends PathsFor<"patch">>(path: P, ...args: InitArgs<Operation<P, "patch">>) {
    return this.request("patch", path, ...args);
  }
  DELETE<P extends PathsFor<"delete">>(path: P, ...args: InitArgs<Operation<P, "delete">>) {
    return this.request("delete", path, ...args);
  }
}

/** A client for base URL and options. */
export function createClient(opts: ClientOptions): Client {
  return new Client(opts);
}
