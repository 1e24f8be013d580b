// Shows every <time datetime> of a server-rendered page (the gallery) in the viewer's own time,
// the same way the chat page shows its times; the UTC text the server wrote stays as the title.
// The page's other text is people's words and stays as the server escaped it: this reads only
// the attribute.
import { localTimeText } from './dom.js';

for (const node of document.querySelectorAll('time[datetime]')) {
  const when = Date.parse(node.getAttribute('datetime'));
  if (Number.isNaN(when)) continue;
  node.title = node.textContent;
  node.textContent = localTimeText(when, Date.now());
}
