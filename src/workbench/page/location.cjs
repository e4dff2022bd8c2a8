// Where the workbench page's files are, wherever this folder is installed: src/ under the tests
// (which run the TypeScript as ES modules, without __dirname) and dist/ when built (CommonJS).
// CommonJS here so __dirname is always at hand; nest-cli.json copies this folder into dist/.
exports.pageDir = __dirname;
