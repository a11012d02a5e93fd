// A front end's use of the generated client, type-checked in CI with `tsc --noEmit --strict`
// against types generated from the live document (`src/ipcp-api.d.ts`, not committed).
// Sign in, list with a cursor, read a report (JSON, and the CSV file), and handle a 412 as a
// typed problem. Nothing here is run by CI: the types are what is tested.
import createClient from "openapi-fetch";

import type { components, paths } from "./ipcp-api";

type Problem = components["schemas"]["Problem"];
type ProgrammeRead = components["schemas"]["ProgrammeRead"];
type ProgrammeReport = components["schemas"]["ProgrammeReport"];
type Schedule = components["schemas"]["Schedule"];

// Compile-time checks of the document's shape (a wrong type fails `tsc`).
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T => true as T;

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.title}: ${problem.detail}`);
  }
}

/** A client for a front end: JSON responses are typed as their schema, never `| string`. */
export function connect(baseUrl: string) {
  return createClient<paths, `${string}/${string}json`>({ baseUrl });
}

export async function signIn(baseUrl: string, username: string, password: string) {
  const api = connect(baseUrl);
  // The token endpoint takes form fields (a JSON body is 422).
  const { data, error } = await api.POST("/api/v1/auth/token", {
    body: { username, password },
    bodySerializer: (body) => new URLSearchParams({ username: body.username, password: body.password }),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (error) {
    // 401 wrong credentials, 429 throttled: the server's words, for the person signing in
    throw new ProblemError(error);
  }
  const token: string = data.access_token;
  api.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  });
  return api;
}

type Api = Awaited<ReturnType<typeof signIn>>;

/** Every programme the user may see, page by page (`next_cursor` until null). */
export async function allProgrammes(api: Api, code?: string): Promise<ProgrammeRead[]> {
  const all: ProgrammeRead[] = [];
  let cursor: string | undefined;
  do {
    const { data, error, response } = await api.GET("/api/v1/programmes", {
      params: { query: { limit: 2, cursor, q: code } },
    });
    if (error) throw new ProblemError(error);
    all.push(...data.items);
    cursor = data.next_cursor ?? undefined;
    const next: string | null = response.headers.get("Link");
    if ((next === null) !== (cursor === undefined)) throw new Error("Link and next_cursor disagree");
  } while (cursor !== undefined);
  return all;
}

/** The report as JSON (typed), and the same figures as a CSV file. */
export async function report(api: Api, programmeId: number, asOf: string) {
  const { data, error } = await api.GET("/api/v1/programmes/{programme_id}/report", {
    params: { path: { programme_id: programmeId }, query: { as_of: asOf } },
  });
  if (error) throw new ProblemError(error);
  assertType<Equals<typeof data, ProgrammeReport>>();
  const schedule: Schedule = data.summary.schedule;
  const progress: number | null = data.summary.progress;
  const percent = progress === null ? "no figures" : `${Math.round(progress * 100)} % done`;

  const csv = await api.GET("/api/v1/programmes/{programme_id}/report", {
    params: { path: { programme_id: programmeId }, query: { as_of: asOf, format: "csv" } },
    parseAs: "text",
  });
  if (csv.error) throw new ProblemError(csv.error);
  const text: string = csv.data;
  const filename = csv.response.headers.get("Content-Disposition");
  return { schedule, percent, rows: text.split("\r\n").length - 2, filename };
}

/** Rename a programme unless someone changed it since it was read: a 412 is a typed problem. */
export async function rename(api: Api, programmeId: number, title: string) {
  const read = await api.GET("/api/v1/programmes/{programme_id}", {
    params: { path: { programme_id: programmeId } },
  });
  if (read.error) throw new ProblemError(read.error);
  const etag = read.response.headers.get("ETag") ?? "*";
  const { data, error } = await api.PATCH("/api/v1/programmes/{programme_id}", {
    params: { path: { programme_id: programmeId }, header: { "If-Match": etag } },
    body: { title },
  });
  if (error) {
    switch (error.type) {
      case "/problems/stale-version":
        return { changed: false as const, why: "changed by someone else: read it again", detail: error.detail };
      case "/problems/conflict-state":
      case "/problems/conflict-unique":
        return { changed: false as const, why: "refused", detail: error.detail };
      default:
        throw new ProblemError(error);
    }
  }
  return { changed: true as const, version: data.version };
}
