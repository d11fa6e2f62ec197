// The IDE page's own script (served as /ide/ide.js, so the page needs no inline script and its
// Content-Security-Policy can forbid them). It mounts GraphiQL from the bundled UMD builds with the
// example tabs the page carries as JSON. Browser code, kept to what every current browser runs.
export const IDE_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('ide-config').textContent);
  // POST with content-type application/json: Apollo's CSRF prevention accepts it without extra headers.
  var fetcher = GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href });
  // GraphiQL 4 fills the first tab's query from defaultTabs but not its variables: on a first visit
  // (no tabs saved in this browser yet) they are given directly.
  var firstVisit = !window.localStorage.getItem('graphiql:tabState');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: config.tabs,
      variables: firstVisit ? config.tabs[0].variables : undefined,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // API keys typed in the Headers tab stay in this page; they are not written to localStorage.
      shouldPersistHeaders: false,
    }),
  );
  // The schema's docs open beside the editor. GraphiQL 4's visiblePlugin prop loses a race with its
  // panel layout on first render, so the page presses the Docs button once it exists.
  var tries = 0;
  (function openDocs() {
    var button = document.querySelector('button[aria-label="Show Documentation Explorer"]');
    if (button) return button.click();
    if (++tries < 200) setTimeout(openDocs, 50);
  })();
})();
`;
