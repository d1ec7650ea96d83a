#!/usr/bin/env python3
"""A minimal FastAPI server on the objectstreaming (TALAudio) protocol, the way talstream's users run theirs.

POST /ask reads the uploaded TALAudio frames as they arrive (a tal_decoder over request.stream()),
"transcribes" them (says how long and at what pitch you spoke: a stand-in for ASR -> LLM -> TTS),
and streams back a spoken answer as TALAudio frames in a StreamingResponse with media_type
application/octet-stream, exactly like the seed README's audio_response_to_stream: sign 1 on the
first frame, 2 on the others, and the end of the body ends the reply.

  /ask?reply=echo   (default with audio) your own audio back, at its own rate
  /ask?reply=tone   a tone at the pitch you spoke at (or 440 Hz), 24 kHz
  /ask?pace=realtime  one 20 ms frame every 20 ms, like a TTS engine; default: burst

It also serves ../index.html (the demo page) at /demo/ and ../../dist at /dist/ when they exist,
so `python3 demo/fastapi/app.py` then http://127.0.0.1:8000/ runs the demo against this server.

Run:  python3 demo/fastapi/app.py [--port 8000]          (uvicorn inside; prints the URL)
 or:  uvicorn app:app --app-dir demo/fastapi --port 8000
Needs: fastapi and uvicorn (Debian: apt install python3-fastapi python3-uvicorn). No numpy.

With the objectstreaming package installed you would import TALAudio, tal_encoder and
tal_decoder from wav_streaming instead of the small equivalents below; the bytes are the same.
"""
import argparse
import array
import asyncio
import json
import math
import os
import socket
import struct
import sys

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

MAX_FRAME_BYTES = 4 * 1024 * 1024
MAX_UPLOAD_SECONDS = 120


class TALAudio:
    """The seed's TALAudio header, with its defaults."""

    def __init__(self, **fields):
        self.audioType = 'int16'
        self.bitDepth = 16
        self.sampleRate = 16000
        self.channels = 1
        self.audioFormat = 'wav'
        self.question = ''
        self.answer = ''
        self.url = ''
        self.sign = 1
        self.order = 1
        self.__dict__.update(fields)


def tal_encoder(r, wav=b''):
    """u32le total | u32le header length | header JSON (json.dumps, as the seed) | PCM bytes."""
    h = json.dumps(r.__dict__).encode('utf-8')
    return struct.pack('<II', 8 + len(h) + len(wav), len(h)) + h + wav


class BadUpload(ValueError):
    def __init__(self, offset, message):
        super().__init__(f'at byte {offset}: {message}')


async def tal_decoder(chunks):
    """Yields (header dict, payload bytes) from an async iterable of byte chunks, whatever their boundaries."""
    buf = bytearray()
    offset = 0
    async for chunk in chunks:
        buf += chunk
        while len(buf) >= 8:
            total, hlen = struct.unpack_from('<II', buf, 0)
            if total < 8 + hlen:
                raise BadUpload(offset, f'total {total} < 8 + header length {hlen}')
            if total > MAX_FRAME_BYTES:
                raise BadUpload(offset, f'frame of {total} bytes is larger than {MAX_FRAME_BYTES}')
            if len(buf) < total:
                break
            try:
                header = json.loads(bytes(buf[8:8 + hlen]).decode('utf-8'))
            except (UnicodeDecodeError, ValueError) as e:
                raise BadUpload(offset, f'header is not UTF-8 JSON ({e})')
            if not isinstance(header, dict):
                raise BadUpload(offset, 'header is not a JSON object')
            payload = bytes(buf[8 + hlen:total])
            del buf[:total]
            yield offset, header, payload
            offset += total
    if buf:
        raise BadUpload(offset, f'body ends inside a frame ({len(buf)} bytes left)')


def pcm_to_mono(header, payload, offset):
    """Raw little-endian PCM -> list of mono floats in [-1, 1)."""
    audio_type = header.get('audioType', 'int16')
    channels = int(header.get('channels', 1))
    code, scale = {'int16': ('h', 32768.0), 'int32': ('i', 2147483648.0)}.get(audio_type, (None, None))
    if code is None or channels < 1:
        raise BadUpload(offset, f'unsupported audioType {audio_type!r} / channels {channels}')
    size = array.array(code).itemsize
    if len(payload) % (size * channels):
        raise BadUpload(offset, f'payload of {len(payload)} bytes does not fit {channels} x {audio_type}')
    a = array.array(code)
    a.frombytes(payload)
    if sys.byteorder != 'little':
        a.byteswap()
    if channels == 1:
        return [v / scale for v in a]
    return [sum(a[i:i + channels]) / (channels * scale) for i in range(0, len(a), channels)]


def pitch_hz(samples, rate):
    """Zero-crossing estimate of the dominant frequency (good for a voice's hum or a test tone)."""
    crossings = sum(1 for i in range(1, len(samples)) if (samples[i - 1] < 0) != (samples[i] < 0))
    return crossings * rate / (2.0 * len(samples)) if samples else 0.0


def frames_of(pcm, rate, question, answer, frame_ms=20):
    """The seed's audio_response_to_stream: int16 frames, sign 1 then 2, answer text spread over them."""
    per = rate * frame_ms // 1000
    count = max(1, math.ceil(len(pcm) / per))
    words = answer.split(' ')
    # Word i rides on frame i * count // len(words): the captions, joined, give the answer back.
    captions = [''] * count
    for i, w in enumerate(words):
        captions[i * count // len(words)] += w + (' ' if i < len(words) - 1 else '')
    for k in range(count):
        part = pcm[k * per:(k + 1) * per]
        text = captions[k]
        r = TALAudio(sampleRate=rate, question=question, answer=text, sign=1 if k == 0 else 2, order=k + 1)
        yield part, r


def tone(hz, seconds, rate=24000, amplitude=0.4):
    n = int(seconds * rate)
    fade = int(0.005 * rate)
    out = array.array('h', bytes(2 * n))
    for i in range(n):
        g = amplitude * min(1.0, i / fade, (n - 1 - i) / fade) if fade else amplitude
        out[i] = int(round(32767 * g * math.sin(2 * math.pi * hz * i / rate)))
    return out


app = FastAPI(title='talstream FastAPI example')
# The demo page may be served from another origin (npm start on :8080) and call this server.
app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_methods=['POST'], allow_headers=['*'])


@app.post('/ask')
async def ask(request: Request, reply: str = '', pace: str = 'burst'):
    if reply not in ('', 'echo', 'tone') or pace not in ('burst', 'realtime'):
        return PlainTextResponse('bad query: reply must be echo|tone, pace burst|realtime\n', status_code=400)
    samples, rate, typed, frames, cut = [], None, [], 0, None
    try:
        async for offset, header, payload in tal_decoder(request.stream()):
            frames += 1
            # A conversation turn that cut the last answer says, in its first frame, how much of
            # that answer the user heard: a real server trims its chat history to it.
            if frames == 1 and isinstance(header.get('interrupted'), dict):
                cut = header['interrupted']
            q = header.get('question') or ''
            if q and (not typed or typed[-1] != q):
                typed.append(q)
            if payload:
                r = int(header.get('sampleRate', 16000))
                if rate is None:
                    rate = r
                elif r != rate:
                    raise BadUpload(offset, f'sampleRate changed from {rate} to {r}')
                samples += pcm_to_mono(header, payload, offset)
                if len(samples) > MAX_UPLOAD_SECONDS * rate:
                    raise BadUpload(offset, f'more than {MAX_UPLOAD_SECONDS} s of audio')
    except BadUpload as e:
        return PlainTextResponse(f'bad upload: {e}\n', status_code=400)
    text = ' '.join(typed)
    if not samples and not text:
        return PlainTextResponse('bad upload: no audio and no question\n', status_code=400)

    if samples:
        secs = len(samples) / rate
        hz = pitch_hz(samples, rate)
        heard = f'heard {secs:.1f} s of {rate / 1000:g} kHz audio, about {hz:.0f} Hz'
        question = f'{text} ({heard})' if text else heard
    else:
        secs, hz, question = 1.5, 440.0, text
    if cut is not None:
        heard_ms = cut.get('playedMs', 0)
        question += f'; you heard {heard_ms / 1000:.2f} s of my last answer' if isinstance(heard_ms, (int, float)) else ''
    if samples and reply in ('', 'echo'):
        out_rate = rate
        pcm = array.array('h', (max(-32768, min(32767, int(round(v * 32768)))) for v in samples))
        answer = f'You said {secs:.1f} seconds of sound. Here it is back.'
    else:
        out_rate = 24000
        pcm = tone(hz or 440.0, min(secs, 30.0), out_rate)
        answer = f'Here is a {hz:.0f} hertz tone.'

    async def audio_response_to_stream():
        for part, r in frames_of(pcm, out_rate, question, answer):
            wav = part.tobytes() if sys.byteorder == 'little' else _swapped(part)
            yield tal_encoder(r, wav=wav)
            if pace == 'realtime':
                await asyncio.sleep(0.02)

    return StreamingResponse(audio_response_to_stream(), media_type='application/octet-stream')


def _swapped(part):
    c = array.array('h', part)
    c.byteswap()
    return c.tobytes()


HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.dirname(HERE)
DIST = os.path.join(os.path.dirname(DEMO), 'dist')
if os.path.isfile(os.path.join(DEMO, 'index.html')):
    app.mount('/demo', StaticFiles(directory=DEMO, html=True), name='demo')
if os.path.isdir(DIST):
    app.mount('/dist', StaticFiles(directory=DIST), name='dist')


@app.get('/')
async def root():
    return RedirectResponse('/demo/')


def main():
    import uvicorn

    parser = argparse.ArgumentParser(description='talstream FastAPI example server')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8000, help='0 picks a free port')
    args = parser.parse_args()
    # Bind first so that --port 0 can report the real port before serving, and listen before saying
    # so: a connection made between the message and uvicorn's start (slow on a loaded machine) then
    # waits in the backlog; on a socket only bound it was refused (ECONNREFUSED, a flaky CI run).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    port = sock.getsockname()[1]
    print(f'talstream FastAPI example: http://{args.host}:{port}/  (demo)  POST http://{args.host}:{port}/ask', flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level='warning'))
    server.run(sockets=[sock])


if __name__ == '__main__':
    main()
