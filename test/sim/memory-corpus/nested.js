// nested objects like a device config, built from JSON and from literals
var cfg = JSON.parse('{"id":"hall","server":{"host":"192.168.1.10","port":8010,"token":"change-me"},"wifi":{"ssid":"my-network","password":"my-password"},"inputs":[{"name":"button","type":"digital","pin":"D0","debounce":50},{"name":"light","type":"analog","pin":"A0","period":10000,"scale":100}],"outputs":[{"name":"led","type":"digital","pin":"D2","safe":0}]}');
var tree = { a: { b: { c: { d: { e: { f: 1 } } } } } };
var state = { inputs: { button: { v: 0, t: 0 }, light: { v: 0.5, t: 1.5 } }, outputs: { led: { v: 1 } }, stats: { rx: 0, tx: 0, err: 0 } };
