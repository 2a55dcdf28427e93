// Loaded once per kernel by the runtime model: provides the Markdown renderer
// and the styles to every chat view on the page.

import { IncrementalMarkdown, renderMarkdown } from "./markdown";
import { provideRenderer } from "./rendererSlot";
import "./styles.css";

// The first render compiles marked's and highlight.js's expressions (~30 ms): done here, it
// stays out of the first frame of streaming, which the views draw after this task.
const WARM_UP =
  "# a\n\n- *b* `c` [d](https://e.org)\n\n> f\n\n| g |\n|---|\n| h |\n\n```python\ni = 1\n```\n";

export function install(): void {
  provideRenderer((container, decorate) => new IncrementalMarkdown(container, decorate));
  renderMarkdown(WARM_UP);
}

export default { initialize: install };
