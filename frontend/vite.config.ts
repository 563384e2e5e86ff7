/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The backend the dev server and `vite preview` forward /api to (HTTP and the job WebSocket).
const backend = process.env.CONTANGO_API_URL ?? "http://127.0.0.1:8000";
const proxy = {
  "/api": { target: backend, changeOrigin: false, ws: true },
};

export default defineConfig({
  base: "/",
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 800 },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.{ts,tsx}"],
    setupFiles: ["tests/setup.ts"],
    css: false,
  },
});
