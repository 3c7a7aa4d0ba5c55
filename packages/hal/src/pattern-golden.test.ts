// Golden sha256 of every pattern × format at two sizes: stable across runs, main thread and Worker.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createFrameRenderer } from './mjpeg-renderer.js';
import { PATTERN_KINDS, type PatternOptions } from './pattern.js';
import { renderReference } from './pattern-renderer.js';
import { ALL_FOURCCS, type VideoFormat } from './pixel-format.js';
import type { PatternHashJob } from './testing/pattern-hash-worker.js';

/**
 * Recorded once from this renderer (frame 7, seed 42, 30 fps) and checked by hand against the
 * reference renderer and ffmpeg (MJPG). A change here is a change of the synthetic devices'
 * output: re-record only on purpose, and say so in the commit.
 */
const GOLDEN: Readonly<Record<string, string>> = {
  'smpte-bars YUY2 160x120': '98d66d450de9e4b752a0cf901032bf0158da32f010e837e23900895a56559a12',
  'ramp YUY2 160x120': 'a5dcb2d6ce83051f146ca861e3741f695df7d08c318832c2b39e874df89d7dce',
  'checkerboard YUY2 160x120': '871b359113bb80ad811ecdebc383ee0edd79eb90f88e572792174da0c1ae5680',
  'moving-box YUY2 160x120': 'ecd4586e0032789f92bcc8c0019f7d58ae5700adc03e74cb67942c24ab28ec06',
  'noise YUY2 160x120': '4c93923f3b1ce0442010cdc76677641e1c430632f513e55f2aee590c58f30b80',
  'solid YUY2 160x120': 'ec6844d1f105969606725e8a08d96916e87ebb9b05f63b9d473557349a17d708',
  'smpte-bars UYVY 160x120': 'a51e08abf5b943472cc39d86e4a28ccdfdb033c581410c870b3340f44f8940bf',
  'ramp UYVY 160x120': '13cd3809f397e1f55ef71140293bb73bb60e35dda8a4d78f3a719c47f62845cc',
  'checkerboard UYVY 160x120': '10131dcc4d44b8b3c4448e2a248c5ab3c873b3e5ce05f4c0f671a254b9973c65',
  'moving-box UYVY 160x120': '45b07c514d665a8160faebc0305a1ad19bc446814035f3f546825c3bdbe8e4fe',
  'noise UYVY 160x120': 'db2072f681b7ffcba397f075cd875ec08b8c151d2c83c6eba085494581048be4',
  'solid UYVY 160x120': '7fa7898596c60f99ae8f9da6d6c8a2c7ca1a1cda811754557e877b7876c45687',
  'smpte-bars NV12 160x120': '1a0e9e66096553ce564fb9a5f0a06e102539073b6a7b713e4305a1a05f6b8649',
  'ramp NV12 160x120': 'c4b42e9096a47833bb16fcd880fd1b475fb9a5c25730602338c93c9dcdd38288',
  'checkerboard NV12 160x120': '6f49a2db100ab0de62c187e21faa822575ede1480918279086bba999fe6af572',
  'moving-box NV12 160x120': 'd5c255f77236a2e0a5034b99e2260ce87731766705dbb3b1c32d00473797fc02',
  'noise NV12 160x120': 'e9de6161ecdf0f1aade8375c877200ffaefe6aed64725382d20e29e6713ab6ea',
  'solid NV12 160x120': '7da4a72a4e348c53ccece0965b31bbf84a7b320c8dfd06f9319231a97c842ea9',
  'smpte-bars I420 160x120': '747c5d9612cc9fd8fa5cb506956b409cf04b724ec9e09125a51112bea392a250',
  'ramp I420 160x120': 'c4b42e9096a47833bb16fcd880fd1b475fb9a5c25730602338c93c9dcdd38288',
  'checkerboard I420 160x120': '6f49a2db100ab0de62c187e21faa822575ede1480918279086bba999fe6af572',
  'moving-box I420 160x120': 'd019afcac97cd68d021cc3c39aebbfda57d0776383042218b85b536392c1260e',
  'noise I420 160x120': 'e9de6161ecdf0f1aade8375c877200ffaefe6aed64725382d20e29e6713ab6ea',
  'solid I420 160x120': '7da4a72a4e348c53ccece0965b31bbf84a7b320c8dfd06f9319231a97c842ea9',
  'smpte-bars RGB24 160x120': '26c7dd5572b892383896dac36e20f40119ef22d050ba6fedfad6059a19aad55e',
  'ramp RGB24 160x120': '8b317228010b36515ca593c8c689b67b37f61fa56f87eb3ae079b44ee9e6ee11',
  'checkerboard RGB24 160x120': '7c7eb154a15f68b9accee36a96930a5f464933123eb4f4dd0f4c397707a3b798',
  'moving-box RGB24 160x120': 'fa16bfcb3797bbda5cd68eddc6fe3419a697991dd0ee63c731154872dbca0990',
  'noise RGB24 160x120': '3f2ff7131a6ca11f75e797399c4a2580d16d6d9e82d8e785fcc503d49be420ef',
  'solid RGB24 160x120': 'dae0704a432f3fce57918b0b51353e9cfa3ca80a0ad10fb74becc79704206ddb',
  'smpte-bars BGRA 160x120': '52114cd012b0818d6b89d914d1186abd3340ca094e687c14a2aaa7f36a1f4a88',
  'ramp BGRA 160x120': '3f037eab79ce3d11e47bd78bc32e72e25e26be49917d23a4dc13f7d1735e2fab',
  'checkerboard BGRA 160x120': '94adf4f0dd65ef1e900a579cbd9aced325d8a1a2dc45c88f1f40740b25087ad1',
  'moving-box BGRA 160x120': 'aaec0012bf5b47d87e62f958fe4e04776e46ad0fa83ed63714afed03979edf91',
  'noise BGRA 160x120': '87838daa10adce4d07eb6c5602bcd621778b1fd6e2d2f5dc6c28c8dcfa8001b0',
  'solid BGRA 160x120': '8dbb3d6a7019a1d32b48ea98bcada2889ae9da801b95d085ec1bc66c53a8c8e3',
  'smpte-bars GRAY8 160x120': '1e7477e4668646da0725542d83c9feb8b422248ba8ce2b27c29ff4df67fb8a9a',
  'ramp GRAY8 160x120': 'b1894a3c55e57dab38fc9ebf0b985fcbb1347c953a16e100a746c03ebda6f4c2',
  'checkerboard GRAY8 160x120': '60173457b4d3e02f736a6d29d8e38896bc6de44a6b7f365ffeaf14e7bd7fc012',
  'moving-box GRAY8 160x120': 'e37ca7b59a82dd520809d67818c4e483ca51fbbcbf6d56f197d075051ab52615',
  'noise GRAY8 160x120': '09e9ff480c73b95f486832b1701576b74b8f576e276660e34d31fa53b8f71f6b',
  'solid GRAY8 160x120': '440b1e59cb0dd100986bc9d475efde09f40c5d6a04a0414b1228f49e61cb47c4',
  'smpte-bars MJPG 160x120': '2596f27498e0167ce18ad627a8a67cd5f89e013b62c1acbea54ceba60024b874',
  'ramp MJPG 160x120': '14a2a149febd05ce34aa31def2ffebde55780f11f39606a795ec614669c32a6f',
  'checkerboard MJPG 160x120': '0583cc6ca898e7f3c98d7baebf8f9bf37f7740de4c9c01a3986153b78f22466a',
  'moving-box MJPG 160x120': '28bdb44ff1e94bba7fe4a6d962b3f705fd0b36f898b28340b59848e13dd19c92',
  'noise MJPG 160x120': '6ba703ac2d54a622200b7765e201c5d64f715deb1d083b93b38fceb997c5236d',
  'solid MJPG 160x120': 'af8b52fde5b5062e0ab2c317aa4e83f93728b04d4697418d4bea68ad183bddbf',
  'smpte-bars YUY2 320x240': '9fbf0c6fc59e37cf6b9dbdeeba440029c786ffc5d92b2741cf235ce4bafeef9f',
  'ramp YUY2 320x240': '3c315a81e1af5b27af5df304255cdcca7545d6cb8a31357a75e3432f6f59c3d6',
  'checkerboard YUY2 320x240': '78ce44de687b7cf6f217205c3b06d273e037051843245234c0e59f80e780f2be',
  'moving-box YUY2 320x240': 'd46a5659c886cb16e109fe3c38dcc0656aa5fcdad88cd47ed4d4c5bb6465b9f7',
  'noise YUY2 320x240': '1a14cb8f108e85a9880932db46d373523d1648cc01d9da65169b2eac89bd1b38',
  'solid YUY2 320x240': '697d9a62700c139210a56980a7b02139e8caf95379c921927ce6e258b11aceb4',
  'smpte-bars UYVY 320x240': '911cc0e41ddf34e98afbf6163d2504989f309864423f53acd8f3f40f9176d9b0',
  'ramp UYVY 320x240': 'c6b144f62da8d5487a79f3b0418749eca73c8f8c309d300ecfc2a8bd682fc626',
  'checkerboard UYVY 320x240': '41f7241d9f53bfa3b66e7ae9b2bbdb309beca0e4210f7e08e0dd146d40f91c1c',
  'moving-box UYVY 320x240': '41882bfd5a864adf12bbc97b4869340c6a7f7399d46b4d95124c793f5c19f066',
  'noise UYVY 320x240': 'b2de483fd0a61bd50e92998f39676e8b8d73144cc22f7652cbc842a1900250a3',
  'solid UYVY 320x240': '59ba798b8c2bc30bbec31f43faff996462aaf07199d2c1d20b7026d7c807b613',
  'smpte-bars NV12 320x240': '82373efb3d93d4db23466d21e5460e33756c8ac9af0c858fefa6bf09512fec9b',
  'ramp NV12 320x240': 'e73de3acf7945188e7a7ec8ce953f01c0a5868960ebba8d3322147f9302f5f9d',
  'checkerboard NV12 320x240': 'c349878cbe79da5e7aa448beb38dd9e297a2e55e7a04c55b3ba2f5875d30565a',
  'moving-box NV12 320x240': 'b2f145c70462b35af57b22aafaacb13fd2e4c90a4e5c9c49cc947fb435cd2834',
  'noise NV12 320x240': 'acfeb8e0c80f30b682832e60a2cba794d602759c38338c83274ea1b1f274bc7f',
  'solid NV12 320x240': '05b789fb3df3f32ea535e813520f51f864d8d87010cd5da7acc569ccca8cd080',
  'smpte-bars I420 320x240': '8a49130175c5855dc07daf38a1d46e71017f972e0081affb016be4ee6edf9794',
  'ramp I420 320x240': 'e73de3acf7945188e7a7ec8ce953f01c0a5868960ebba8d3322147f9302f5f9d',
  'checkerboard I420 320x240': 'c349878cbe79da5e7aa448beb38dd9e297a2e55e7a04c55b3ba2f5875d30565a',
  'moving-box I420 320x240': '55fdb1393d2254e45631ed1855bb2002749dd437068d4f63bc55039f6de244d8',
  'noise I420 320x240': 'acfeb8e0c80f30b682832e60a2cba794d602759c38338c83274ea1b1f274bc7f',
  'solid I420 320x240': '05b789fb3df3f32ea535e813520f51f864d8d87010cd5da7acc569ccca8cd080',
  'smpte-bars RGB24 320x240': '995f539fb059795cc3dda3d00c6a567fa435dc400ae8a394e38b854639c2511d',
  'ramp RGB24 320x240': 'b296937426fcb9dbe61fad57f1957243538e469cbda4681975312cb454606126',
  'checkerboard RGB24 320x240': 'cd5aa8d96986d0cd07497220c99deb770d051993b1e8cb78e3cc217dbb777575',
  'moving-box RGB24 320x240': '8de2df678e27a5008f3dc47ef399e2c40ecf09008e8ec289836665d915aeaf8d',
  'noise RGB24 320x240': 'bbe117a469624a384da407e1c678cee471fa3decf3b187904610f9871d883167',
  'solid RGB24 320x240': 'b77011b3e0ddda94d96fbc874ebf3c79b1a9cbe8ccd11bdc5fb9a5cd75c829ea',
  'smpte-bars BGRA 320x240': '437f3945d99620555fd67f4f526138d41d3ee82f7a82e4ae8c851f4241933db2',
  'ramp BGRA 320x240': '2d937a0630d2ba3ffac5805e3c3ca1f8fababd3ae3ebc11b71a0b15404fade16',
  'checkerboard BGRA 320x240': 'aacb3b137b2d0c5a7eb4cfeb44d11d9cd2dc4f99afc7f4f47c51d44cc21de739',
  'moving-box BGRA 320x240': '83798ab7c8fd1f8b17865fceda84eca05157225b6d0ea58507ec1706690fa65c',
  'noise BGRA 320x240': '6b7d091b247aba9948bed86b3c5ae388f856575ab26918c1e8582379e4fac575',
  'solid BGRA 320x240': '7630d3161e5a68ed146a1830eab056dcf5dcec959ce01b104c5c844406e04806',
  'smpte-bars GRAY8 320x240': '27f8fdd83e29c4ac38d241f75bfe0c88cd385b7eaa338fa250a1c42dd98fcd55',
  'ramp GRAY8 320x240': '43c91697cae2d4abb7ea14ff88ea483b646a416f161dfe25a9ed63ce6cedb805',
  'checkerboard GRAY8 320x240': '31c68aeaed4e0df6c8d5ffe21567f6318d733863b1806d5e901f4f01aa2fc46d',
  'moving-box GRAY8 320x240': 'b6ad8bef1ededb6a391d2a44edf7d3dff7557e553811ab828bb04a04b59f5c0d',
  'noise GRAY8 320x240': 'fa20705339ce538eee055b4f5035f0099bbfef77f9ceb1f040504d986f849937',
  'solid GRAY8 320x240': '19eb5411e72dced9aa63be4c8a046bc94a2d3690d402d05d81fc3759fa489ff1',
  'smpte-bars MJPG 320x240': 'af83736c1143cf1fb862f9faaddfadf5c980b1ae9285475bd8ac4991b2adb2a5',
  'ramp MJPG 320x240': '9310f9db88f258497d11374f8a6468ccdd6eab3a81492d6ebb3c36c7e8494f63',
  'checkerboard MJPG 320x240': 'be191800d35a3d8ac3b07fd58472915926865ddd308e1ea395427999260113a6',
  'moving-box MJPG 320x240': 'e45e5194bcdf30f182bb90fee01af584850ba47db62c92e0ece3dc308f944ad2',
  'noise MJPG 320x240': '7c298ce8d8cda65e2bf2d4f4e5d8e9aa95cb7f54e23abcc6e0e0b97ddb3c2832',
  'solid MJPG 320x240': '2b37740c70fa7dd2c4447c858a0c5b5ed7345a4e806571104cbb6625e051f727',
};

const SIZES = [
  [160, 120],
  [320, 240],
] as const;
const FRAME = 7;

interface Case {
  key: string;
  options: PatternOptions;
  format: VideoFormat;
}

const CASES: Case[] = SIZES.flatMap(([width, height]) =>
  ALL_FOURCCS.flatMap((fourcc) =>
    PATTERN_KINDS.map((pattern) => ({
      key: `${pattern} ${fourcc} ${width}x${height}`,
      options: { pattern, seed: 42 },
      format: { fourcc, width, height, interval: 333333n },
    })),
  ),
);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('golden frames', () => {
  it('covers every pattern × format × size', () => {
    expect(CASES.map((c) => c.key).sort()).toEqual(Object.keys(GOLDEN).sort());
  });

  it('main thread: the renderers reproduce every golden hash (twice, into fresh and reused memory)', () => {
    for (const c of CASES) {
      const r = createFrameRenderer(c.options, c.format);
      const mem = new Uint8Array(new SharedArrayBuffer((r.layout.imageSize + 3) & ~3)).fill(0x33);
      const n1 = r.render(mem, 0, mem.length, FRAME, -1);
      expect({ key: c.key, hash: sha256(mem.subarray(0, n1)) }).toEqual({ key: c.key, hash: GOLDEN[c.key] });
      r.render(mem, 0, mem.length, FRAME + 3, -1);
      const n2 = r.render(mem, 0, mem.length, FRAME, -1);
      expect(sha256(mem.subarray(0, n2))).toBe(GOLDEN[c.key]);
    }
  });

  it('the per-pixel reference renderer agrees with the golden hashes of raw formats', () => {
    for (const c of CASES.filter((k) => k.format.fourcc !== 'MJPG' && k.format.width === 160)) {
      const out = new Uint8Array(200_000);
      const n = renderReference(c.options, c.format, FRAME, out);
      expect({ key: c.key, hash: sha256(out.subarray(0, n)) }).toEqual({ key: c.key, hash: GOLDEN[c.key] });
    }
  });

  it('a Worker renders the same bytes', async () => {
    const job: PatternHashJob = {
      cases: CASES.map((c) => ({ options: c.options, format: c.format, frames: [FRAME] })),
    };
    const worker = new Worker(new URL('./testing/pattern-hash-worker.js', import.meta.url), {
      workerData: job,
    });
    const hashes = await new Promise<string[]>((resolve, reject) => {
      worker.once('message', (m: string[]) => resolve(m));
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(hashes).toEqual(CASES.map((c) => GOLDEN[c.key]));
  });
});
