// The sherpa dashboard page: reads the study through the JSON API of the server that served
// it, and polls it once a second for what changed (only new rows).
//
// It is often open on the machine that runs the study, so it draws as little as it can: the
// header and the table are rewritten only when what they show changed, learning curves are
// extended from the polled observations instead of fetched again, the plots of all trials
// are redrawn only when their data changed and at most every few seconds, and nothing is
// polled or drawn while the tab is hidden.
(function () {
  'use strict';

  const token = new URLSearchParams(window.location.search).get('token');
  const POLL_MS = 1000;
  const MAX_CURVE_POINTS = 300;
  const DEFAULT_CONTEXT_AXES = 3;
  // A plot of all trials is redrawn for live data at most this often, and at most every
  // ten times as long as it took to draw last (software WebGL can take seconds).
  const MIN_REDRAW_MS = { parcoords: 10000, best: 5000 };
  // A curve extended from the polled observations is fetched again (reduced) past this.
  const MAX_LOCAL_CURVE_POINTS = 2 * MAX_CURVE_POINTS;

  // How often each part was drawn, for tests and benchmarks (read-only for them).
  const draws = { parcoords: 0, best: 0, curves: 0, table: 0, header: 0 };
  window.sherpaDashboard = { draws };

  const state = {
    summary: null,
    trials: new Map(), // number -> {status, iterations, values: {axisKey: encoded}}
    version: 0,
    seq: 0,
    ranges: {}, // axisKey -> [[low, high], ...] from the brushing
    sort: 'number',
    order: 'asc',
    status: '',
    offset: 0,
    limit: 25,
    page: [],
    matched: 0,
    curves: new Map(), // number -> {iteration: [], objective: []}
    curvesKey: '', // the trials (numbers, joined) whose curves were fetched
    curvesStale: false,
    curvesGrew: false, // the curves grew from polled observations since they were drawn
    tableKey: '',
    headerKey: '',
    highlighted: null,
    pinned: null,
    contextShown: new Set(), // context keys drawn as axes
    contextPicked: false, // the user chose them in the picker
    axisOrder: [], // axis keys in the order the user dragged them into
    axesKey: '',
  };

  const $ = (id) => document.getElementById(id);

  function showMessage(text) {
    const box = $('message');
    box.textContent = text;
    box.hidden = !text;
  }

  async function api(path, options) {
    const response = await fetch(path, Object.assign({
      headers: { 'X-Sherpa-Token': token || '' },
      cache: 'no-store',
    }, options || {}));
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
    }
    return body;
  }

  function format(value) {
    if (value === null || value === undefined) return '–';
    if (typeof value === 'number') {
      if (Number.isInteger(value)) return String(value);
      const magnitude = Math.abs(value);
      if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(3);
      return String(Number(value.toPrecision(5)));
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  // Data

  // Merges changed trials; says whether the parallel coordinates (axis values of any
  // trial) and the best-so-far chart (completed trials' objectives) show something new.
  function mergeColumns(columns) {
    const keys = Object.keys(columns.values);
    const changed = { parcoords: false, best: false };
    for (let i = 0; i < columns.number.length; i += 1) {
      const values = {};
      for (const key of keys) values[key] = columns.values[key][i];
      const number = columns.number[i];
      const status = columns.status[i];
      const old = state.trials.get(number);
      if (!old || keys.length !== Object.keys(old.values).length
          || keys.some((key) => !Object.is(old.values[key], values[key]))) {
        changed.parcoords = true;
      }
      const completed = status === 'COMPLETED';
      const wasCompleted = old !== undefined && old.status === 'COMPLETED';
      if (completed !== wasCompleted
          || (completed && !Object.is(old.values.objective, values.objective))) {
        changed.best = true;
      }
      state.trials.set(number, { status, iterations: columns.iterations[i], values });
    }
    return changed;
  }

  // Until the user picks, the first context metrics are shown, also those that appear after
  // the page opened: a study's first metrics usually arrive after its dashboard is opened.
  function addDefaultContextAxes() {
    if (state.contextPicked) return;
    for (const axis of state.summary.axes) {
      if (state.contextShown.size >= DEFAULT_CONTEXT_AXES) return;
      if (axis.key.startsWith('c:')) state.contextShown.add(axis.key);
    }
  }

  // The axes drawn, in the order the user dragged them into (new axes keep their place
  // after the ones the user has placed).
  function shownAxes() {
    const axes = state.summary.axes.filter(
      (a) => !a.key.startsWith('c:') || state.contextShown.has(a.key));
    const placed = (a) => {
      const at = state.axisOrder.indexOf(a.key);
      return at === -1 ? state.axisOrder.length : at;
    };
    return axes.map((a, i) => [placed(a), i, a]).sort((p, q) => p[0] - q[0] || p[1] - q[1])
      .map((entry) => entry[2]);
  }

  // Header

  function renderHeader() {
    const s = state.summary;
    const key = JSON.stringify([s.study.name, s.counts, s.best && s.best.objective,
      s.best && s.best.trial]);
    if (key === state.headerKey) return;
    state.headerKey = key;
    draws.header += 1;
    setText($('study-name'), s.study.name);
    if (document.title !== `${s.study.name} · sherpa`) document.title = `${s.study.name} · sherpa`;
    const counts = $('counts');
    for (const [status, n] of Object.entries(s.counts)) {
      let badge = counts.querySelector(`.badge[data-status='${status}']`);
      if (!badge) {
        badge = document.createElement('span');
        badge.className = `badge ${status}`;
        badge.dataset.status = status;
        counts.appendChild(badge);
      }
      setText(badge, `${status.toLowerCase()} ${n}`);
    }
    const best = s.best;
    setText($('best'), best
      ? `best ${format(best.objective)} (trial ${best.trial})`
      : 'no completed trial yet');
  }

  function renderMetricPicker() {
    const picker = $('metric-picker');
    const contextAxes = state.summary.axes.filter((a) => a.key.startsWith('c:'));
    const signature = contextAxes.map((a) => a.key).join('|');
    if (picker.dataset.signature === signature) return;
    picker.dataset.signature = signature;
    picker.replaceChildren();
    for (const axis of contextAxes) {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = state.contextShown.has(axis.key);
      box.addEventListener('change', () => {
        state.contextPicked = true;
        if (box.checked) state.contextShown.add(axis.key); else state.contextShown.delete(axis.key);
        drawParcoords(true);
        renderTable(true);
      });
      label.append(box, ` ${axis.label}`);
      picker.appendChild(label);
    }
  }

  // Parallel coordinates

  function dimension(axis, numbers) {
    const values = numbers.map((n) => {
      const v = state.trials.get(n).values[axis.key];
      return v === null || v === undefined ? NaN : v;
    });
    // plotly reorders the dimensions in place when the user drags an axis, keeping each
    // object: the key travels with its axis, where an index would name another one.
    const dim = { key: axis.key, label: axis.label, values };
    if (axis.scale === 'category') {
      dim.tickvals = axis.categories.map((_, i) => i);
      dim.ticktext = axis.categories.map((c) => format(c));
      dim.range = [0, Math.max(1, axis.categories.length - 1)];
    } else if (axis.scale === 'log') {
      const finite = values.filter((v) => Number.isFinite(v));
      if (finite.length) {
        const low = Math.floor(finite.reduce((a, b) => Math.min(a, b)));
        const high = Math.ceil(finite.reduce((a, b) => Math.max(a, b)));
        dim.tickvals = [];
        for (let p = low; p <= high; p += 1) dim.tickvals.push(p);
        dim.ticktext = dim.tickvals.map((p) => `1e${p}`);
        dim.range = [low, Math.max(high, low + 1)];
      }
    }
    if (state.ranges[axis.key]) dim.constraintrange = state.ranges[axis.key];
    return dim;
  }

  function drawParcoords(force) {
    draws.parcoords += 1;
    const axes = shownAxes();
    const numbers = Array.from(state.trials.keys()).sort((a, b) => a - b);
    const objective = numbers.map((n) => state.trials.get(n).values.objective);
    const fallback = objective.reduce(
      (low, v) => (v !== null && Number.isFinite(v) && (low === null || v < low) ? v : low), null,
    ) ?? 0;
    const trace = {
      type: 'parcoords',
      dimensions: axes.map((axis) => dimension(axis, numbers)),
      line: {
        color: objective.map((v) => (v === null ? fallback : v)),
        colorscale: 'Viridis',
        reversescale: state.summary.study.lower_is_better,
        showscale: true,
      },
    };
    const layout = { margin: { l: 60, r: 60, t: 40, b: 20 } };
    const plot = $('parcoords');
    const key = axes.map((a) => a.key).join('|');
    if (force || key !== state.axesKey || !plot.data) {
      state.axesKey = key;
      Plotly.react(plot, [trace], layout, { displaylogo: false, responsive: true });
      if (!plot.dataset.listening) {
        plot.dataset.listening = '1';
        plot.on('plotly_restyle', onBrush);
      }
    } else {
      Plotly.react(plot, [trace], layout);
    }
  }

  let brushTimer = null;
  function onBrush() {
    clearTimeout(brushTimer);
    brushTimer = setTimeout(() => {
      const plot = $('parcoords');
      // A drag reorders the dimensions in place: keep that order for the next redraw.
      state.axisOrder = plot.data[0].dimensions.map((dim) => dim.key);
      const ranges = {};
      for (const dim of plot.data[0].dimensions) {
        const range = dim.constraintrange;
        if (!range || !range.length) continue;
        ranges[dim.key] = Array.isArray(range[0]) ? range : [range];
      }
      state.ranges = ranges;
      state.offset = 0;
      reloadPage();
    }, 120);
  }

  // Table

  function columnsOfTable() {
    const cols = [
      { key: 'number', label: 'Trial', get: (t) => t.number },
      { key: 'status', label: 'Status', get: (t) => t.status, cls: 'status' },
      { key: 'iterations', label: 'Iterations', get: (t) => t.iterations },
      { key: 'objective', label: 'Objective', get: (t) => t.objective },
    ];
    for (const axis of state.summary.axes) {
      if (axis.key.startsWith('p:')) {
        const name = axis.key.slice(2);
        cols.push({ key: axis.key, label: axis.label, get: (t) => t.parameters[name] });
      }
    }
    for (const key of state.contextShown) {
      const name = key.slice(2);
      cols.push({ key, label: name, get: (t) => t.context[name] });
    }
    return cols;
  }

  // Rewrites the table only when what it shows changed (unless forced: sort, pin).
  // While a button of the table is pressed, the rows are not rebuilt: a poll that replaced
  // them between the press and the release would swallow the click (a Stop missed).
  const tableHold = { pressed: false, deferred: false };

  function renderTable(force) {
    const cols = columnsOfTable();
    const key = JSON.stringify([
      cols.map((c) => c.key), state.sort, state.order, state.pinned, state.page,
    ]);
    if (!force && key !== state.tableKey && tableHold.pressed) {
      tableHold.deferred = true;
    } else if (force || key !== state.tableKey) {
      state.tableKey = key;
      renderRows(cols);
    }
    const first = state.matched ? state.offset + 1 : 0;
    const last = Math.min(state.offset + state.limit, state.matched);
    setText($('page-info'), `${first}–${last} of ${state.matched}`);
    const filtered = Object.keys(state.ranges).length || state.status;
    setText($('table-info'), filtered
      ? `${state.matched} of ${state.summary.total} trials match the selection`
      : `${state.summary.total} trials`);
    $('prev').disabled = state.offset === 0;
    $('next').disabled = state.offset + state.limit >= state.matched;
  }

  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  function renderRows(cols) {
    draws.table += 1;
    const head = document.querySelector('#trials thead tr');
    head.replaceChildren();
    for (const col of cols) {
      const th = document.createElement('th');
      th.textContent = col.label;
      th.dataset.key = col.key;
      if (col.cls) th.classList.add(col.cls);
      if (state.sort === col.key) th.classList.add('sorted', state.order);
      th.addEventListener('click', () => {
        state.order = state.sort === col.key && state.order === 'asc' ? 'desc' : 'asc';
        state.sort = col.key;
        state.offset = 0;
        reloadPage();
      });
      head.appendChild(th);
    }
    head.appendChild(document.createElement('th'));
    const body = document.querySelector('#trials tbody');
    body.replaceChildren();
    for (const trial of state.page) {
      const tr = document.createElement('tr');
      tr.dataset.trial = String(trial.number);
      if (trial.number === state.pinned) tr.classList.add('pinned');
      for (const col of cols) {
        const td = document.createElement('td');
        td.textContent = format(col.get(trial));
        if (col.cls) td.classList.add(col.cls);
        tr.appendChild(td);
      }
      const action = document.createElement('td');
      if (trial.status === 'INTERMEDIATE') {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'stop';
        button.dataset.trial = String(trial.number);
        button.textContent = trial.stop_requested ? 'stopping…' : 'Stop';
        button.disabled = trial.stop_requested;
        button.addEventListener('click', (event) => { event.stopPropagation(); stopTrial(trial.number, button); });
        action.appendChild(button);
      }
      tr.appendChild(action);
      tr.addEventListener('mouseenter', () => highlight(trial.number));
      tr.addEventListener('mouseleave', () => highlight(null));
      tr.addEventListener('click', () => {
        state.pinned = state.pinned === trial.number ? null : trial.number;
        renderTable(true);
        highlight(null);
      });
      body.appendChild(tr);
    }
  }

  // A page the user asked for (sort, filter, paging, brushing): a failure is shown, not lost.
  const TABLE_FAILED = 'The table could not be loaded';

  function reloadPage() {
    loadPage().then(() => {
      if ($('message').textContent.startsWith(TABLE_FAILED)) showMessage('');
    }, (error) => showMessage(`${TABLE_FAILED}: ${error.message}`));
  }

  // Only the latest page request is shown: a brush, a click and a poll can overlap.
  let pageTicket = 0;

  // A poll passes live=true: the curves of the same trials are then extended from the
  // observations rather than fetched again.
  async function loadPage(live) {
    pageTicket += 1;
    const ticket = pageTicket;
    const query = new URLSearchParams({
      offset: String(state.offset), limit: String(state.limit),
      sort: state.sort, order: state.order,
    });
    if (state.status) query.set('status', state.status);
    if (Object.keys(state.ranges).length) query.set('ranges', JSON.stringify(state.ranges));
    const page = await api(`/api/trials?${query}`);
    if (ticket !== pageTicket) return;
    state.page = page.trials;
    state.matched = page.matched;
    renderTable();
    const curvesKey = state.page.map((t) => t.number).join(',');
    if (live && curvesKey === state.curvesKey && !state.curvesStale) return;
    await loadCurves(ticket, curvesKey);
  }

  async function stopTrial(number, button) {
    button.disabled = true;
    button.textContent = 'stopping…';
    try {
      await api(`/api/trials/${number}/stop`, {
        method: 'POST', headers: { 'X-Sherpa-Token': token || '' },
      });
    } catch (error) {
      showMessage(`Trial ${number} could not be stopped: ${error.message}`);
      button.disabled = false;
      button.textContent = 'Stop';
    }
  }

  // Curves

  async function loadCurves(ticket, curvesKey) {
    const numbers = state.page.map((t) => t.number);
    state.curvesStale = false;
    if (!numbers.length) {
      state.curves = new Map();
      state.curvesKey = curvesKey;
      drawCurves();
      return;
    }
    const query = new URLSearchParams({ trials: numbers.join(','), max_points: String(MAX_CURVE_POINTS) });
    const reply = await api(`/api/curves?${query}`);
    if (ticket !== pageTicket) return;
    state.curves = new Map(Object.entries(reply.curves).map(([n, c]) => [Number(n), c]));
    state.curvesKey = curvesKey;
    drawCurves();
  }

  // plotly.js (4.8 MB) is loaded after the first paint, so the table shows before the
  // browser has parsed it.
  let plotlyLoading = null;
  function loadPlotly() {
    if (plotlyLoading === null) {
      plotlyLoading = new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = '/static/plotly.min.js';
        script.onload = resolve;
        script.onerror = () => reject(new Error('plotly.js could not be loaded'));
        document.head.appendChild(script);
      });
    }
    return plotlyLoading;
  }

  function drawCurves() {
    if (!window.Plotly) return;
    draws.curves += 1;
    state.curvesGrew = false;
    const focus = state.highlighted !== null ? state.highlighted : state.pinned;
    const traces = Array.from(state.curves.entries()).map(([number, curve]) => ({
      type: 'scatter',
      mode: 'lines',
      name: `trial ${number}`,
      x: curve.iteration,
      y: curve.objective,
      line: { width: number === focus ? 3.5 : 1.5 },
      opacity: focus === null || number === focus ? 1 : 0.25,
    }));
    Plotly.react($('curves'), traces, {
      margin: { l: 50, r: 10, t: 10, b: 40 },
      xaxis: { title: { text: 'iteration' } },
      yaxis: { title: { text: 'objective' } },
      showlegend: false,
      hovermode: 'closest',
    }, { displaylogo: false, responsive: true });
  }

  function highlight(number) {
    state.highlighted = number;
    document.querySelectorAll('#trials tbody tr').forEach((tr) => {
      tr.classList.toggle('highlight', Number(tr.dataset.trial) === number);
    });
    drawCurves();
  }

  // Best so far

  function drawBestChart() {
    draws.best += 1;
    const lowerIsBetter = state.summary.study.lower_is_better;
    const numbers = [];
    const objectives = [];
    const bestX = [];
    const bestY = [];
    let best = null;
    for (const n of Array.from(state.trials.keys()).sort((a, b) => a - b)) {
      const trial = state.trials.get(n);
      const v = trial.values.objective;
      if (trial.status !== 'COMPLETED' || v === null) continue;
      numbers.push(n);
      objectives.push(v);
      if (best === null || (lowerIsBetter ? v < best : v > best)) best = v;
      bestX.push(n);
      bestY.push(best);
    }
    const many = numbers.length > 2000;
    Plotly.react($('best-chart'), [
      { type: many ? 'scattergl' : 'scatter', mode: 'markers', name: 'completed trial', x: numbers, y: objectives, marker: { size: 4, opacity: 0.5 } },
      { type: 'scatter', mode: 'lines', name: 'best so far', x: bestX, y: bestY, line: { shape: 'hv', width: 2 } },
    ], {
      margin: { l: 50, r: 10, t: 10, b: 40 },
      xaxis: { title: { text: 'trial' } },
      yaxis: { title: { text: 'objective' } },
      legend: { orientation: 'h', y: 1.15 },
    }, { displaylogo: false, responsive: true });
  }

  // Live updates

  function mark(name) {
    document.body.dataset[`t${name}`] = String(Math.round(performance.now()));
  }

  async function loadAll() {
    mark('Start');
    state.summary = await api('/api/summary');
    addDefaultContextAxes();
    state.trials = new Map();
    const columns = await api('/api/trials?format=columns');
    mark('Columns');
    mergeColumns(columns.columns);
    renderHeader();
    renderMetricPicker();
    await loadPage();
    // Recorded once every part is shown, and from the summary, read first: the version
    // is never newer than any part, so a change made while they were read is read again.
    state.seq = state.summary.seq;
    state.version = state.summary.version;
    mark('Painted');
    document.body.dataset.painted = '1';
    // Let the browser paint the header and the table before the plots.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    await loadPlotly();
    mark('Plotly');
    drawCurves();
    mark('Curves');
    timed('best', drawBestChart);
    timed('parcoords', () => drawParcoords(true));
  }

  // How long each plot took to draw last (ms): a plot is redrawn for live data at most
  // every ten times that long, so a slow (software-rendered) browser stays responsive.
  const drawCost = { parcoords: 0, best: 0 };
  const drawnAt = { parcoords: 0, best: 0 };

  function timed(name, draw) {
    const start = performance.now();
    draw();
    const end = performance.now();
    drawCost[name] = end - start;
    drawnAt[name] = end;
    pending[name] = false;
    document.body.dataset[`${name}Ms`] = String(Math.round(end - start));
  }

  const pending = { parcoords: false, best: false };
  const redraws = { parcoords: () => drawParcoords(false), best: drawBestChart };

  // Redraws a plot of all trials whose data changed, once it is due.
  function redrawIfDue(name) {
    const since = performance.now() - drawnAt[name];
    if (since >= Math.max(MIN_REDRAW_MS[name], 10 * drawCost[name])) {
      pending[name] = false;
      timed(name, redraws[name]);
    }
  }

  // Extends the curves on this page with new observations; says whether any grew.
  function extendCurves(observations) {
    let grew = false;
    for (const [number, iteration, objective] of observations) {
      const curve = state.curves.get(number);
      if (!curve) continue;
      const last = curve.iteration.length ? curve.iteration[curve.iteration.length - 1] : -Infinity;
      // The fetched curve may already hold it (it was read after the last poll); an
      // observation out of order means the curve must be fetched again.
      if (iteration <= last) {
        if (!curve.iteration.includes(iteration)) state.curvesStale = true;
        continue;
      }
      curve.iteration.push(iteration);
      curve.objective.push(objective);
      if (curve.iteration.length > MAX_LOCAL_CURVE_POINTS) state.curvesStale = true;
      grew = true;
    }
    return grew;
  }

  async function poll() {
    const observed = await api(`/api/observations?since=${state.seq}`);
    if (observed.reset) {
      await loadAll();
      return;
    }
    state.seq = observed.next;
    if (extendCurves(observed.observations)) state.curvesGrew = true;
    if (observed.version !== state.version) {
      const summary = await api('/api/summary');
      state.summary = summary;
      addDefaultContextAxes();
      const changed = await api(`/api/trials?format=columns&changed_since=${state.version}`);
      const shown = mergeColumns(changed.columns);
      pending.parcoords = pending.parcoords || shown.parcoords;
      pending.best = pending.best || shown.best;
      renderHeader();
      renderMetricPicker();
      await loadPage(true);
      // Only once every part is shown (a failed read is retried by the next poll), and
      // from the summary, read first: never newer than any part, so a change made while
      // they were read is read again.
      state.version = summary.version;
    }
    // Grown curves not drawn yet (loadPage draws them when it fetches them again).
    if (state.curvesGrew) drawCurves();
    if (window.Plotly) {
      if (pending.best) redrawIfDue('best');
      if (pending.parcoords) redrawIfDue('parcoords');
    }
  }

  function showLive(text, className) {
    const live = $('live');
    setText(live, text);
    if (live.className !== className) live.className = className;
  }

  // One poll at a time, once a second while the tab is visible; a hidden tab polls
  // nothing and catches up (one poll) when it is shown again.
  let pollTimer = null;
  let polling = false;

  async function pollForever() {
    pollTimer = null;
    if (document.visibilityState === 'hidden') {
      showLive('paused (tab hidden)', '');
      return;
    }
    polling = true;
    try {
      await poll();
      showLive('live', 'on');
    } catch (error) {
      showLive(`not updating: ${error.message}`, '');
    }
    polling = false;
    if (document.visibilityState !== 'hidden') pollTimer = setTimeout(pollForever, POLL_MS);
    else showLive('paused (tab hidden)', '');
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' || !document.body.dataset.ready) return;
    if (pollTimer === null && !polling) pollForever();
  });

  function holdTableWhilePressed() {
    $('trials').addEventListener('pointerdown', () => { tableHold.pressed = true; });
    const release = () => {
      if (!tableHold.pressed) return;
      tableHold.pressed = false;
      if (!tableHold.deferred) return;
      tableHold.deferred = false;
      // After the click that this release completes has been dispatched.
      setTimeout(() => renderTable(), 0);
    };
    document.addEventListener('pointerup', release);
    document.addEventListener('pointercancel', release);
  }

  function wireControls() {
    holdTableWhilePressed();
    $('status-filter').addEventListener('change', (event) => {
      state.status = event.target.value;
      state.offset = 0;
      reloadPage();
    });
    $('page-size').addEventListener('change', (event) => {
      state.limit = Number(event.target.value);
      state.offset = 0;
      reloadPage();
    });
    $('prev').addEventListener('click', () => {
      state.offset = Math.max(0, state.offset - state.limit);
      reloadPage();
    });
    $('next').addEventListener('click', () => {
      state.offset += state.limit;
      reloadPage();
    });
    $('clear-brush').addEventListener('click', () => {
      state.ranges = {};
      state.offset = 0;
      drawParcoords(true);
      reloadPage();
    });
  }

  async function main() {
    if (!token) {
      showMessage('Open this page with the address sherpa printed (it ends in ?token=…).');
      $('live').textContent = '';
      return;
    }
    wireControls();
    try {
      await loadAll();
    } catch (error) {
      showMessage(`The study could not be read: ${error.message}`);
      return;
    }
    document.body.dataset.ready = '1';
    pollTimer = setTimeout(pollForever, POLL_MS);
  }

  main();
}());
