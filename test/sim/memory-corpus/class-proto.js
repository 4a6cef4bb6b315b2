// a class as SWC emits it in ES5: a wrapper IIFE, constructor, prototype methods; a few instances
function _class_call_check(instance, Constructor) { if (!(instance instanceof Constructor)) throw new Error("Cannot call a class as a function"); }
var Sensor = /*#__PURE__*/ function () {
  "use strict";
  function Sensor(name, pin, period) {
    _class_call_check(this, Sensor);
    this.name = name;
    this.pin = pin;
    this.period = period;
    this.last = null;
    this.count = 0;
  }
  var _proto = Sensor.prototype;
  _proto.read = function read() { this.count++; return this.last = this.pin * 0.5; };
  _proto.reset = function reset() { this.count = 0; this.last = null; };
  _proto.describe = function describe() { return this.name + "@" + this.pin; };
  _proto.due = function due(now, since) { return now - since >= this.period; };
  return Sensor;
}();
var Queue = /*#__PURE__*/ function () {
  "use strict";
  function Queue(max) { _class_call_check(this, Queue); this.items = []; this.max = max; }
  var _proto = Queue.prototype;
  _proto.push = function push(x) { if (this.items.length < this.max) this.items.push(x); };
  _proto.pop = function pop() { return this.items.shift(); };
  return Queue;
}();
var sensors = [new Sensor("button", 0, 50), new Sensor("light", 17, 10000), new Sensor("meter", 13, 60000)];
sensors[1].read();
var q = new Queue(8);
q.push(1); q.push(2.5);
