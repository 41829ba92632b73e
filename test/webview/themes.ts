/**
 * The theme variables VS Code puts on a webview's <html>, for the colours the views use: a light, a dark and a
 * high-contrast set (values from VS Code's default themes), so screenshots show what users see.
 */
const common = {
  'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  'editor-font-size': '13px',
};

export const THEMES: Record<'light' | 'dark' | 'high-contrast', { bodyClass: string; vars: Record<string, string> }> = {
  light: {
    bodyClass: 'vscode-light',
    vars: {
      ...common,
      foreground: '#3b3b3b', 'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b', descriptionForeground: '#3b3b3b', errorForeground: '#f85149',
      'textLink-foreground': '#005fb8', 'textLink-activeForeground': '#005fb8', focusBorder: '#005fb8', 'panel-border': '#e5e5e5', 'sideBar-background': '#f8f8f8',
      'editorWidget-background': '#f8f8f8', 'editorWidget-border': '#c8c8c8', 'charts-blue': '#1a85ff', 'charts-green': '#388a34', 'charts-orange': '#d18616', 'charts-purple': '#652d90',
      'charts-yellow': '#bf8803', 'charts-red': '#e51400', 'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'list-hoverBackground': '#f2f2f2',
      'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000', 'button-background': '#005fb8', 'button-foreground': '#ffffff',
      'button-hoverBackground': '#0258a8', 'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b', 'button-secondaryHoverBackground': '#cccccc', 'button-border': '#0000001a',
      'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'input-border': '#cecece', 'input-placeholderForeground': '#767676', 'dropdown-background': '#ffffff',
      'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece', 'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'checkbox-foreground': '#3b3b3b',
      'editor-findMatchHighlightBackground': '#ea5c0055', 'editorWarning-foreground': '#bf8803', 'editorInfo-foreground': '#1a85ff', 'menu-background': '#ffffff',
      'menu-foreground': '#3b3b3b', 'menu-selectionBackground': '#005fb8', 'menu-selectionForeground': '#ffffff', 'widget-shadow': '#00000029', 'textBlockQuote-background': '#f8f8f8',
      'settings-dropdownBackground': '#ffffff', 'settings-dropdownBorder': '#cecece', 'settings-dropdownForeground': '#3b3b3b', 'settings-dropdownListBorder': '#c8c8c8', 'settings-textInputBackground': '#ffffff', 'settings-textInputForeground': '#3b3b3b', 'settings-textInputBorder': '#cecece', 'list-highlightForeground': '#0066bf', 'list-focusHighlightForeground': '#bbe7ff', 'list-hoverForeground': '#3b3b3b',
      'list-focusOutline': '#005fb8', 'settings-checkboxBackground': '#f8f8f8', 'quickInput-background': '#f8f8f8', 'list-activeSelectionIconForeground': '#000000',
    },
  },
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      ...common,
      foreground: '#cccccc', 'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc', descriptionForeground: '#9d9d9d', errorForeground: '#f85149',
      'textLink-foreground': '#4daafc', 'textLink-activeForeground': '#4daafc', focusBorder: '#0078d4', 'panel-border': '#2b2b2b', 'sideBar-background': '#181818',
      'editorWidget-background': '#202020', 'editorWidget-border': '#454545', 'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-orange': '#d18616', 'charts-purple': '#b180d7',
      'charts-yellow': '#cca700', 'charts-red': '#f14c4c', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8', 'list-hoverBackground': '#2a2d2e',
      'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff', 'button-background': '#0078d4', 'button-foreground': '#ffffff',
      'button-hoverBackground': '#026ec1', 'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c', 'button-border': '#ffffff12',
      'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c', 'input-placeholderForeground': '#989898', 'dropdown-background': '#313131',
      'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c', 'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'checkbox-foreground': '#cccccc',
      'editor-findMatchHighlightBackground': '#9e6a03aa', 'editorWarning-foreground': '#cca700', 'editorInfo-foreground': '#3794ff', 'menu-background': '#1f1f1f',
      'menu-foreground': '#cccccc', 'menu-selectionBackground': '#0078d4', 'menu-selectionForeground': '#ffffff', 'widget-shadow': '#0000005c', 'textBlockQuote-background': '#2b2b2b',
      'settings-dropdownBackground': '#313131', 'settings-dropdownBorder': '#3c3c3c', 'settings-dropdownForeground': '#cccccc', 'settings-dropdownListBorder': '#454545', 'settings-textInputBackground': '#313131', 'settings-textInputForeground': '#cccccc', 'settings-textInputBorder': '#3c3c3c', 'list-highlightForeground': '#2aaaff', 'list-focusHighlightForeground': '#2aaaff', 'list-hoverForeground': '#cccccc',
      'list-focusOutline': '#0078d4', 'settings-checkboxBackground': '#313131', 'quickInput-background': '#222222', 'list-activeSelectionIconForeground': '#ffffff',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      ...common,
      foreground: '#ffffff', 'editor-background': '#000000', 'editor-foreground': '#ffffff', descriptionForeground: '#ffffff', errorForeground: '#f48771',
      'textLink-foreground': '#21a6ff', 'textLink-activeForeground': '#21a6ff', focusBorder: '#f38518', 'panel-border': '#6fc3df', 'sideBar-background': '#000000',
      'editorWidget-background': '#0c141f', 'editorWidget-border': '#6fc3df', 'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-orange': '#d18616', 'charts-purple': '#b180d7',
      'charts-yellow': '#ffd700', 'charts-red': '#f14c4c', 'badge-background': '#000000', 'badge-foreground': '#ffffff', 'list-hoverBackground': '#000000',
      'list-activeSelectionBackground': '#000000', 'list-activeSelectionForeground': '#ffffff', 'button-background': '#000000', 'button-foreground': '#ffffff',
      'button-hoverBackground': '#000000', 'button-secondaryBackground': '#000000', 'button-secondaryForeground': '#ffffff', 'button-secondaryHoverBackground': '#000000', 'button-border': '#6fc3df',
      'input-background': '#000000', 'input-foreground': '#ffffff', 'input-border': '#6fc3df', 'input-placeholderForeground': '#ffffffb3', 'dropdown-background': '#000000',
      'dropdown-foreground': '#ffffff', 'dropdown-border': '#6fc3df', 'checkbox-background': '#000000', 'checkbox-border': '#6fc3df', 'checkbox-foreground': '#ffffff',
      'editor-findMatchHighlightBackground': '#000000', 'editor-findMatchBorder': '#f38518', 'editorWarning-foreground': '#ffd370', 'editorInfo-foreground': '#3794ff', 'menu-background': '#000000',
      'menu-foreground': '#ffffff', 'menu-selectionBackground': '#000000', 'menu-selectionForeground': '#ffffff', 'menu-border': '#6fc3df', 'widget-shadow': '#000000', 'textBlockQuote-background': '#000000',
      'settings-dropdownBackground': '#000000', 'settings-dropdownBorder': '#6fc3df', 'settings-dropdownForeground': '#ffffff', 'settings-dropdownListBorder': '#6fc3df', 'settings-textInputBackground': '#000000', 'settings-textInputForeground': '#ffffff', 'settings-textInputBorder': '#6fc3df', 'list-highlightForeground': '#f38518', 'list-focusHighlightForeground': '#f38518', 'list-hoverForeground': '#ffffff',
      'list-focusOutline': '#f38518', 'settings-checkboxBackground': '#000000', 'quickInput-background': '#000000', 'list-activeSelectionIconForeground': '#ffffff',
    },
  },
};
