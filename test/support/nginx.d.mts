export declare const NGINX_CONF: string;
export declare function renderSite(port: number, upstreams: number[], options?: { strictPort?: number }): string;
export interface Nginx {
  port: number;
  url: string;
  /** The site without retries of POST, when started with strictPort. */
  strictUrl: string | undefined;
  dir: string;
  errorLog(): string;
  accessLog(): string;
  stop(): Promise<void>;
}
export declare function startNginx(options: { port: number; upstreams: number[]; strictPort?: number }): Promise<Nginx>;
