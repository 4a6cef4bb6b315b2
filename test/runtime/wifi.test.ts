import { strict as assert } from "node:assert";
import * as sinon from "sinon";
import { WifiLink } from "../../firmware/runtime/wifi";
import { FakeBoard } from "./fakes";

describe("runtime/WifiLink", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => { clock = sinon.useFakeTimers(); });
  afterEach(() => clock.restore());

  it("connects, reports up once, reconnects with doubling backoff after disconnected", () => {
    const b = new FakeBoard("esp8266");
    const w = new WifiLink(b, "ap", "pw", 1000, 8000);
    let ups = 0, downs = 0;
    w.onUp = () => ups++;
    w.onDown = () => downs++;
    w.start();
    assert.equal(b.wifiCalls.length, 1);
    b.wifiCalls[0](null);
    b.wifiEmit("connected");
    assert.equal(ups, 1);
    b.wifiEmit("disconnected");
    assert.equal(downs, 1);
    clock.tick(999);
    assert.equal(b.wifiCalls.length, 1);
    clock.tick(1);
    assert.equal(b.wifiCalls.length, 2);
    b.wifiCalls[1]("auth failed");
    clock.tick(1999);
    assert.equal(b.wifiCalls.length, 2);
    clock.tick(1);
    assert.equal(b.wifiCalls.length, 3);
    b.wifiCalls[2]("no ap");
    clock.tick(4000);
    b.wifiCalls[3]("no ap");
    clock.tick(8000);
    b.wifiCalls[4]("no ap");
    clock.tick(8000);
    assert.equal(b.wifiCalls.length, 6, "backoff capped at max");
    b.wifiCalls[5](null);
    assert.equal(ups, 2);
    assert.equal(w.bo, 1000, "backoff reset when connected");
    assert.equal(clock.countTimers(), 0);
  });
});
