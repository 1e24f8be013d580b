// Shows every <time datetime> of a server-rendered page (the gallery) in the viewer's own time,
// as the chat page shows its times; the UTC text the server wrote stays as the title. The page's
// other text is people's words and stays as the server escaped it: this reads only the attribute.
for (const node of document.querySelectorAll('time[datetime]')) {
  const when = new Date(node.getAttribute('datetime'));
  if (Number.isNaN(when.getTime())) continue;
  node.title = node.textContent;
  const thisYear = when.getFullYear() === new Date().getFullYear();
  node.textContent = when.toLocaleString([], { day: 'numeric', month: 'short', ...(thisYear ? {} : { year: 'numeric' }), hour: '2-digit', minute: '2-digit' });
}
