'use strict';
// The compiled addon; requiring this throws when the build did not run or failed, and ganql then trains on wasm alone.
module.exports = require('./build/Release/ganql_native.node');
