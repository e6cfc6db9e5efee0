import { Layout } from "../layout";

const TITLES: Record<number, string> = {
  401: "Please sign in",
  403: "That was refused",
  404: "Not found",
  409: "Not possible right now",
  422: "Please check the form",
  429: "Too many requests",
};

/** An error as a page: what happened, in the bridge's own words, and a way on. */
export function ErrorPage({ status, message }: { status: number; message: string }) {
  const title = TITLES[status] ?? (status >= 500 ? "Something went wrong" : "That did not work");
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      <p class="alert" role="alert">
        {message}
      </p>
      <p>
        <a href="/console">Back to the console</a> · <a href="/">Home</a>
      </p>
    </Layout>
  );
}
