// globals holding numbers: small ints (free as values), large ints, floats, booleans, null
var a = 1, b = 2, c = -7, d = 1000, e = -1024, f = 1023;
var big1 = 1024, big2 = 100000, big3 = -5000, big4 = 2147483647;
var f1 = 1.5, f2 = 0.1, f3 = -273.15, f4 = 3.14159, f5 = 1e10;
var t1 = true, t2 = false, n1 = null, u1 = undefined;
var temperature = 21.5, humidity = 40, pressure = 1013, counter = 0, lastValue = 12345;
