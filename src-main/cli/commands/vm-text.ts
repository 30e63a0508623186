// Runs in: plain Node (CLI). How the CLI shows a VM's state: a word,
// coloured by what it means.
import type { VmSummary } from '../../shared/models';
import { stateLabel } from '../../shared/vm';
import type { Output } from '../output';

/** stateText is a VM's state as a word, coloured by what it means. */
export function stateText(out: Output, vm: VmSummary): string {
  if (vm.configError) return out.tint('broken', 'red');
  const word = stateLabel(vm.state);
  switch (vm.state) {
    case 'ready':
      return out.tint(word, 'green');
    case 'starting':
    case 'booting':
    case 'stopping':
      return out.tint(word, vm.diagnosis ? 'red' : 'yellow');
    case 'crashed':
      return out.tint(word, 'red');
    case 'stopped':
      return word;
  }
}
