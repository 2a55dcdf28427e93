// esbuild bundles imported CSS into runtime.css beside runtime.js.
declare module "*.css";
