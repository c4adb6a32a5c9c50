/** The capture benchmarks need root, BTF and the built addon: without them, say which is missing and exit. */
import { captureAvailability } from '../../src/capture/index.ts';

export function exitUnlessCaptureAvailable(): void {
  const avail = captureAvailability();
  if (avail.ok) return;
  console.error(`capture is not available: ${avail.reason}`);
  process.exit(1);
}
