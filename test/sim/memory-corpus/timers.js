// timers: intervals and timeouts with closures holding state
var ticks = 0;
var samples = [];
var iv = setInterval(function () { ticks++; if (samples.length < 5) samples.push(ticks); }, 100);
setInterval(function () { ticks += 0; }, 5000);
setTimeout(function () { ticks = ticks; }, 60000);
setTimeout(function (a) { return a; }, 70000, 42);
function schedule(ms) { var state = { ms: ms, fired: 0 }; return setTimeout(function () { state.fired++; }, ms); }
var t1 = schedule(80000), t2 = schedule(90000);
