// Test helper: renders a view inside the provider with a fresh store over a FakeXrayClient.
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { XrayProvider } from '../../src-renderer/store/context';
import { connectStore, createXrayStore, type XrayStore } from '../../src-renderer/store/store';
import type { FakeXrayClient } from './fake-client';

export function renderWith(client: FakeXrayClient, ui: ReactElement): { store: XrayStore } & ReturnType<typeof render> {
  const store = createXrayStore(client);
  connectStore(store, client);
  const result = render(
    <XrayProvider store={store}>
      {ui}
    </XrayProvider>,
  );
  return { store, ...result };
}
