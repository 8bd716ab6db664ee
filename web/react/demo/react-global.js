// `import … from "react"` for the demo page: the React its UMD build put on window (in an app, a
// bundler resolves the same import to the npm package).
const React = window.React;
export default React;
export const { useCallback, useEffect, useRef, useState, createElement, StrictMode } = React;
