// web/main: the dashboard's entry point (bundled by scripts/build.mjs into dist/web/assets/main-HASH.js,
// loaded by dist/web/index.html; no inline script or style anywhere: the daemon's CSP forbids them).
import { render } from 'preact';
import { App } from './app.tsx';
import './styles.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
