// The app is client-side only: the relay serves the static build, and every tab runs its own node.
export const ssr = false;
export const prerender = false;
