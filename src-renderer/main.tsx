// Runs in: renderer entry. Picks the client (Electron preload or browser mode),
// builds the store and renders the app.
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { HttpXrayClient } from './client/http-client';
import type { XrayClient } from './client/types';
import { bridgeClient } from '../src-main/shared/client';
import { XrayProvider } from './store/context';
import { connectStore, createXrayStore } from './store/store';
import './styles.css';

/** TOKEN_KEY keeps browser mode's token for this tab, so a reload still works once it left the address bar. */
const TOKEN_KEY = 'xray-token';

function pickClient(): XrayClient | null {
  if (window.xray) return bridgeClient(window.xray);
  const fromAddress = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (fromAddress) {
    window.sessionStorage.setItem(TOKEN_KEY, fromAddress);
    window.history.replaceState(null, '', window.location.pathname);
  }
  const token = fromAddress ?? window.sessionStorage.getItem(TOKEN_KEY);
  return token ? new HttpXrayClient(window.location.origin, token) : null;
}

const root = createRoot(document.getElementById('root')!);
const client = pickClient();
if (!client) {
  root.render(
    <p className="fatal">This page needs the access token from the address the <code>xray ui</code> command printed; open that address instead.</p>,
  );
} else {
  const store = createXrayStore(client);
  connectStore(store, client);
  document.documentElement.dataset.platform = client.platform;
  root.render(
    <XrayProvider store={store}>
      <App />
    </XrayProvider>,
  );
}
