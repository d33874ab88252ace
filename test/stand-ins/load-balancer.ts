// A round-robin HTTP load balancer in front of a cluster in http mode: each request goes to
// the next backend, body and headers untouched (Slack's signature covers the exact body).
export interface LoadBalancer {
  url: string;
  /** Requests each backend got. */
  counts: number[];
  stop(): void;
}

export function startLoadBalancer(backends: string[]): LoadBalancer {
  const counts = backends.map(() => 0);
  let next = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const i = next++ % backends.length;
      counts[i] = (counts[i] ?? 0) + 1;
      const url = new URL(req.url);
      const headers = new Headers(req.headers);
      headers.delete("host");
      try {
        return await fetch(`${backends[i]}${url.pathname}${url.search}`, { method: req.method, headers, body: await req.arrayBuffer() });
      } catch {
        return new Response("bad gateway\n", { status: 502 });
      }
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, counts, stop: () => server.stop(true) };
}
