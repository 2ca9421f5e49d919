// `npm run dev` proxies /api to the backend exactly like the Vercel rewrite and the
// `hubship frontend` server: the /api prefix is stripped.
import { defineConfig } from "vite";

const backend = process.env.HUBSHIP_BACKEND_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    proxy: {
      "/api": {
        target: backend,
        changeOrigin: true,
        rewrite: (path) => path.replace(/^\/api/, "") || "/",
      },
    },
  },
});
