// esbuild bundles imported CSS into widget.css beside widget.js.
declare module "*.css";
