// Render math with the self-hosted KaTeX. pymdownx.arithmatex (generic mode) wraps math in
// \( \) and \[ \]; Material's document$ fires on the first load and after every instant navigation.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  });
});
