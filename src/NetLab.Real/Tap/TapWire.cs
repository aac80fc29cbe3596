using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using NetLab.Core.Packets;
using NetLab.Real.Native;
using NetLab.Real.Time;
using NetLab.Stack;
using NetLab.Stack.Link;

namespace NetLab.Real.Tap;

/// <summary>
/// The wire behind a NetLab <see cref="EthernetDevice"/> when the far end is a Linux TAP device.
/// Receive: a reader thread polls the non-blocking fd and reads frames into preallocated batches of
/// <see cref="BatchFrames"/> slots until the kernel has no more (or the batch is full), then posts the
/// batch to the loop, which copies each frame into a pooled packet and hands it to the device (a NIC's rx
/// ring and NAPI poll with budget 64). Transmit: the loop writes each frame straight to the fd, since
/// tun takes one frame per write() and never blocks (tun_get_user → netif_rx). Nothing on either path
/// allocates per frame. No offloads: without IFF_VNET_HDR the device has no TSO, so TCP super-segments
/// are cut to MSS before they reach <see cref="Transmit"/>.
/// </summary>
public sealed class TapWire : IWire, IDisposable
{
    /// <summary>Frames per batch: NAPI_POLL_WEIGHT, the budget of one poll in Linux.</summary>
    public const int BatchFrames = 64;
    private const int BatchCount = 16;
    // 802.1Q tag room beyond the Ethernet header, and one byte to recognise a frame longer than a slot.
    private const int SlotExtra = EthernetHeaderView.Length + 4 + 1;
    private const int PollTimeoutMs = 100;

    private sealed class RxBatch(int slot)
    {
        public readonly byte[] Buffer = new byte[slot * BatchFrames];
        public readonly int[] Lengths = new int[BatchFrames];
        public int Count;
    }

    private readonly TapFile _tap;
    private readonly RealTimeLoop _loop;
    private readonly EthernetDevice _device;
    private readonly PacketPool _pool;
    private readonly int _slot;
    private readonly ConcurrentQueue<RxBatch> _free = new();
    private readonly SemaphoreSlim _freeCount = new(BatchCount, BatchCount);
    private readonly SendOrPostCallback _deliver;
    private readonly Thread _reader;
    private volatile bool _stopping;

    /// <summary>
    /// Wires <paramref name="device"/> to <paramref name="tap"/> with MTU <paramref name="mtu"/> (carrier on).
    /// Frames arrive once <see cref="Start"/> runs; the loop must be running to deliver them.
    /// </summary>
    public TapWire(TapFile tap, RealTimeLoop loop, EthernetDevice device, int mtu)
    {
        _tap = tap;
        _loop = loop;
        _device = device;
        _pool = device.Host.Pool;
        // Slots hold the largest frame either side's MTU allows, so an over-MTU frame is seen whole and counted.
        _slot = Math.Max(mtu, tap.KernelMtu) + SlotExtra;
        for (int i = 0; i < BatchCount; i++) _free.Enqueue(new RxBatch(_slot));
        _deliver = Deliver;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"tap-rx {tap.Name}" };
        device.AttachWire(this, mtu);
    }

    private long _rxBatches, _rxFrames, _readErrors;

    /// <summary>Batches the reader posted to the loop.</summary>
    public long RxBatches => Interlocked.Read(ref _rxBatches);

    /// <summary>Frames in those batches.</summary>
    public long RxFrames => Interlocked.Read(ref _rxFrames);

    /// <summary>read() failures other than "nothing to read now".</summary>
    public long ReadErrors => Interlocked.Read(ref _readErrors);

    /// <summary>write() failures (on the loop).</summary>
    public long WriteErrors { get; private set; }

    public bool IsBusy => false;

    public void Start() => _reader.Start();

    /// <summary>ndo_start_xmit for tun: one write() per frame. Takes ownership.</summary>
    public void Transmit(Packet frame)
    {
        var data = frame.Data;
        nint n = Libc.write(_tap.Fd, ref MemoryMarshal.GetReference(data), data.Length);
        if (n != data.Length)
        {
            // EIO: the kernel's side is down (tun_get_user); the frame is lost as on a cable with no peer.
            WriteErrors++;
            _device.Stats.TxDropped++;
        }
        frame.Dispose();
    }

    private void ReadLoop()
    {
        var pfd = new Libc.PollFd { Fd = _tap.Fd, Events = Libc.PollIn };
        RxBatch? batch = null;
        while (!_stopping)
        {
            if (batch is null)
            {
                // Every batch is on the loop: the kernel queues (then drops, as tx_dropped on its side) meanwhile.
                if (!_freeCount.Wait(PollTimeoutMs)) continue;
                _free.TryDequeue(out batch);
                batch!.Count = 0;
            }
            nint n = Libc.read(_tap.Fd, ref batch.Buffer[batch.Count * _slot], _slot);
            if (n > 0)
            {
                batch.Lengths[batch.Count++] = (int)n;
                if (batch.Count == BatchFrames) { Post(batch); batch = null; }
                continue;
            }
            // tun never returns 0; a descriptor that does (a closed socketpair) is an error too.
            int errno = n < 0 ? Libc.Errno : 0;
            if (errno == Libc.EIntr) continue;
            // Nothing more to read now: hand over what this batch holds, then sleep until the next frame.
            if (batch.Count > 0) { Post(batch); batch = null; }
            if (errno != Libc.EAgain)
            {
                Interlocked.Increment(ref _readErrors);
                Thread.Sleep(PollTimeoutMs);   // EBADFD and the like: do not spin
                continue;
            }
            Libc.poll(ref pfd, 1, PollTimeoutMs);
        }
        if (batch is not null) Recycle(batch);
    }

    private void Post(RxBatch batch)
    {
        Interlocked.Increment(ref _rxBatches);
        Interlocked.Add(ref _rxFrames, batch.Count);
        _loop.Post(_deliver, batch);
    }

    /// <summary>On the loop: each frame of the batch into a pooled packet and up the device (napi_gro_receive).</summary>
    private void Deliver(object? state)
    {
        var batch = (RxBatch)state!;
        for (int i = 0; i < batch.Count; i++)
        {
            int n = batch.Lengths[i];
            if (n >= _slot)
            {
                // Longer than either MTU allows (tun truncated it to the slot): a giant, counted and dropped.
                _device.Stats.RxLengthErrors++;
                _device.Stats.RxErrors++;
                continue;
            }
            _device.OnFrameReceived(_pool.RentCopy(batch.Buffer.AsSpan(i * _slot, n)));
        }
        Recycle(batch);
    }

    private void Recycle(RxBatch batch)
    {
        batch.Count = 0;
        _free.Enqueue(batch);
        _freeCount.Release();
    }

    /// <summary>Stops the reader (within one poll timeout) and unplugs the device. The caller closes the fd.</summary>
    public void Dispose()
    {
        _stopping = true;
        if (_reader.IsAlive) _reader.Join();
        _device.Attach(null);
        _freeCount.Dispose();
    }
}
