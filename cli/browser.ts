import { spawn } from "node:child_process";

/** Whether a browser can be shown here: $BROWSER, Windows, macOS outside SSH, elsewhere only with a display. */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.BROWSER) return true;
  if (process.platform === "win32") return true;
  if (process.platform === "darwin") return !env.SSH_CONNECTION;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The command that opens a URL: $BROWSER (with %s, or the URL appended), else the platform's opener. */
function opener(url: string, env: NodeJS.ProcessEnv): [string, string[]] {
  const [cmd, ...args] = (env.BROWSER ?? "").split(/\s+/).filter(Boolean);
  if (cmd) return [cmd, args.some((a) => a.includes("%s")) ? args.map((a) => a.replace("%s", url)) : [...args, url]];
  if (process.platform === "darwin") return ["open", [url]];
  if (process.platform === "win32") return ["cmd", ["/c", "start", '""', url.replace(/&/g, "^&")]];
  return ["xdg-open", [url]];
}

/** Opens the URL in the user's browser without waiting for it; false when that is not possible. */
export async function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!hasDisplay(env)) return false;
  const [cmd, args] = opener(url, env);
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd, args, { stdio: "ignore", detached: true });
      child.once("error", () => resolve(false));
      child.once("spawn", () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
