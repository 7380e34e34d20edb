import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Engine } from '../engine.ts';
import { tempHome } from '../testing/temp-home.ts';
import { Dispatcher } from './dispatcher.ts';

const home = tempHome();
const engine = Engine.open({ home: home.dir });
const api = new Dispatcher(engine);
after(async () => {
  await engine.close();
  home.remove();
});

describe('API validation', () => {
  it('answers {result} for a valid request', async () => {
    const r = await api.call('appliances.create', { name: 'v1', template: 'hello', settings: { repeat: 2 } });
    assert.ok('result' in r);
    assert.deepEqual((r.result as { config: unknown }).config, { greeting: 'Hello from Kiln', repeat: 2 });
  });

  it('refuses inputs that fail the schema, naming the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ template: 'hello' }, 'name', /name/],
      [{ name: 42, template: 'hello' }, 'name', /string/],
      [{ name: 'ok', template: 'hello', extra: 1 }, 'extra', /Unknown field "extra"/],
      [{ name: 'ok', template: 'hello', settings: { repeat: [1] } }, 'settings.repeat', /settings\.repeat/],
      [{ name: 'Not-Valid', template: 'hello' }, 'name', /lowercase letters/],
      [{ name: 'ok', template: 'nope' }, 'template', /Unknown template "nope"/],
      [{ name: 'ok', template: 'hello', settings: { repeat: 0 } }, 'repeat', /at least 1/],
      [{ name: 'ok', template: 'hello', settings: { colour: 'red' } }, 'colour', /Unknown setting "colour"/],
    ];
    for (const [input, field, message] of cases) {
      const r = await api.call('appliances.create', input);
      assert.ok('error' in r, JSON.stringify(input));
      assert.equal(r.error.code, 'invalid_input', JSON.stringify(input));
      assert.equal(r.error.field, field, JSON.stringify(input));
      assert.match(r.error.message, message);
    }
    assert.equal(engine.appliances.list().length, 1, 'nothing was created by a refused request');
  });

  it('reports unknown methods and missing appliances as not_found', async () => {
    for (const name of [
      'appliances.frobnicate',
      'nope.list',
      'appliances',
      'constructor.name',
      '__proto__.x',
      42,
    ]) {
      const r = await api.call(name, {});
      assert.ok('error' in r && r.error.code === 'not_found', String(name));
    }
    const r = await api.call('appliances.get', { name: 'ghost' });
    assert.ok(
      'error' in r && r.error.code === 'not_found' && /No appliance named "ghost"/.test(r.error.message),
    );
  });

  it('reports duplicates as a conflict', async () => {
    const r = await api.call('appliances.create', { name: 'v1', template: 'hello' });
    assert.ok('error' in r && r.error.code === 'conflict' && r.error.field === 'name');
  });
});

describe('API streams', () => {
  it('delivers events in batches and stops after cancel', async () => {
    const batches: unknown[][] = [];
    const cancel = api.subscribe(
      'library.events',
      {},
      { events: (b) => batches.push(b), end: () => assert.fail('not ended') },
    );
    await api.call('appliances.create', { name: 's1', template: 'hello' });
    await api.call('appliances.rename', { name: 's1', newName: 's2' });
    await api.call('appliances.remove', { name: 's2' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(batches.length, 1, 'three synchronous changes travel in one batch');
    assert.deepEqual(
      batches[0]!.map((e) => (e as { type: string }).type),
      ['appliance.created', 'appliance.renamed', 'appliance.removed'],
    );
    cancel();
    await api.call('appliances.create', { name: 's3', template: 'hello' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(batches.length, 1, 'no events after cancel');
  });

  it('ends an unknown or invalid subscription with a structured error', () => {
    let ended: unknown;
    api.subscribe('library.nothing', {}, { events: () => assert.fail(), end: (e) => (ended = e) });
    assert.deepEqual((ended as { code: string }).code, 'not_found');
    api.subscribe('library.events', { bogus: 1 }, { events: () => assert.fail(), end: (e) => (ended = e) });
    assert.deepEqual((ended as { code: string }).code, 'invalid_input');
  });
});
