import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { openBrowser } from "./browser";
import { CliError, EXIT } from "./errors";
import type { LoginOptions } from "./targets/types";

/** The official CLI's loopback ports: the first free one is used. */
export const LOGIN_PORTS = { first: 8740, last: 8759 };
const LOGIN_TIMEOUT_MS = 180_000;

export interface SignedIn {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto"><h1>${title}</h1><p>${text}</p></body></html>`;

function listenOnFreePort(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    let port = LOGIN_PORTS.first;
    const tryNext = () => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        if ((err.code === "EADDRINUSE" || err.code === "EACCES") && port < LOGIN_PORTS.last) {
          port++;
          tryNext();
        } else {
          reject(
            new CliError(
              EXIT.auth,
              "no_free_port",
              `No free port between ${LOGIN_PORTS.first} and ${LOGIN_PORTS.last} on 127.0.0.1 for the sign-in callback. Close other sign-ins and try again.`,
            ),
          );
        }
      });
      server.listen(port, "127.0.0.1", () => {
        server.removeAllListeners("error");
        resolve(port);
      });
    };
    tryNext();
  });
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

interface Settle {
  resolve: (t: SignedIn) => void;
  reject: (e: Error) => void;
}

/**
 * The one-shot server's only page: KallyAI's redirect with the tokens (or an error) and the state.
 * A request that is not that answers a page and leaves the wait alone.
 */
function callbackHandler(state: string, settlement: () => Settle) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const reply = (status: number, title: string, text: string) => {
      res.writeHead(status, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      });
      res.end(PAGE(title, text));
    };
    if (req.method !== "GET" || url.pathname !== "/")
      return reply(404, "Not found", "This is the KallyAI CLI's sign-in callback.");
    const q = url.searchParams;
    if (!sameText(q.get("state") ?? "", state)) {
      return reply(
        400,
        "Sign-in refused",
        "This sign-in did not start from this terminal (the state does not match). Start again with kallyai --login.",
      );
    }
    if (q.get("error")) {
      reply(400, "Sign-in failed", "KallyAI did not complete the sign-in. You can close this window and try again.");
      return res.once("finish", () =>
        settlement().reject(
          new CliError(
            EXIT.auth,
            "sign_in_failed",
            `KallyAI refused the sign-in (${q.get("error")}). Try kallyai --login again.`,
          ),
        ),
      );
    }
    const access = q.get("access_token");
    const refresh = q.get("refresh_token");
    const expiresIn = Number(q.get("expires_in") ?? 3600);
    if (!access || !refresh)
      return reply(400, "Sign-in incomplete", "The answer carried no tokens. Start again with kallyai --login.");
    reply(
      200,
      "Signed in",
      "You are signed in to the KallyAI CLI. You can close this window and return to the terminal.",
    );
    // Settled once the page is sent, so closing the server cannot cut it short.
    res.once("finish", () =>
      settlement().resolve({
        access_token: access,
        refresh_token: refresh,
        expires_in: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600,
      }),
    );
  };
}

/**
 * KallyAI's CLI sign-in: a one-shot server on 127.0.0.1 receives the tokens at its root (the
 * reference and KallyAI's own clients use a bare `http://127.0.0.1:PORT`, with no path), after the
 * browser signed in at `${apiBase}/v1/auth/cli`. The random `state` must come back unchanged
 * (CSRF); anything else is refused and the wait goes on, for up to 180 s.
 */
export async function signIn(apiBase: string, opts: LoginOptions): Promise<SignedIn> {
  const state = randomBytes(24).toString("base64url");
  let settle!: Settle;
  const done = new Promise<SignedIn>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer(callbackHandler(state, () => settle));

  const port = await listenOnFreePort(server);
  const signInUrl = new URL(`${apiBase.replace(/\/+$/, "")}/v1/auth/cli`);
  signInUrl.searchParams.set("redirect_uri", `http://127.0.0.1:${port}`);
  signInUrl.searchParams.set("state", state);

  const opened = opts.openBrowser && (await openBrowser(signInUrl.toString()));
  opts.say(
    opened
      ? "Your browser was opened to sign in to KallyAI. If it did not, open this URL:"
      : "Open this URL in a browser to sign in to KallyAI:",
  );
  opts.say(`  ${signInUrl}`);
  opts.say(`Waiting up to ${LOGIN_TIMEOUT_MS / 1000} s for the sign-in to complete…`);

  const timer = setTimeout(
    () =>
      settle.reject(
        new CliError(
          EXIT.auth,
          "sign_in_timeout",
          `The sign-in did not complete within ${LOGIN_TIMEOUT_MS / 1000} s. Run kallyai --login again.`,
        ),
      ),
    LOGIN_TIMEOUT_MS,
  );
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  }
}
