// The end-to-end tests run whole graphs and the installation tests run npm:
// on a loaded machine or an assert-enabled server they take longer than
// vitest's default five seconds.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
