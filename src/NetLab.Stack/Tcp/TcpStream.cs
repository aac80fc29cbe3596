using System.IO.Pipelines;

namespace NetLab.Stack.Tcp;

/// <summary>
/// A <see cref="Stream"/> over a connected <see cref="TcpSocket"/> (like NetworkStream), so application
/// protocols written against streams run over NetLab TCP. Reads return 0 at the peer's FIN; errors
/// surface as <see cref="IOException"/> wrapping <see cref="NetLabSocketException"/> with the Linux errno.
/// Use it from the world's loop: awaits resume in virtual time, also inside library code that awaits with
/// ConfigureAwait(false) (StreamReader, SslStream): socket waits complete with no context current (WaitQueue).
/// </summary>
public sealed class TcpStream(TcpSocket socket, bool ownsSocket = true) : Stream
{
    private PipeWriter? _outputWriter;
    private Task? _outputPump;

    public TcpSocket Socket { get; } = socket;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { return await Socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (NetLabSocketException e) { throw new IOException(e.Message, e); }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { await Socket.SendAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (NetLabSocketException e) { throw new IOException(e.Message, e); }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Synchronous I/O cannot wait in a single-threaded world: only what is already there can be read.</summary>
    public override int Read(byte[] buffer, int offset, int count)
    {
        var err = Socket.TryReceive(buffer.AsSpan(offset, count), out int n);
        if (err == Errno.None) return n;
        throw new IOException(ErrnoText.Describe(err), new NetLabSocketException(err));
    }

    /// <summary>Synchronous writes must fit in the send buffer at once.</summary>
    public override void Write(byte[] buffer, int offset, int count)
    {
        var err = Socket.TrySend(buffer.AsSpan(offset, count), out int n);
        if (err == Errno.None && n == count) return;
        var errno = err == Errno.None ? Errno.EAGAIN : err;
        throw new IOException(err == Errno.None ? "send buffer full: use WriteAsync" : ErrnoText.Describe(err), new NetLabSocketException(errno));
    }

    /// <summary>Every write is pushed (Nagle permitting); there is nothing to flush.</summary>
    public override void Flush() { }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// An <see cref="IDuplexPipe"/> over the connection, as Kestrel's transports offer: two pipes pumped by loops
    /// on the world's scheduler. The input completes at the peer's FIN; completing the output sends ours.
    /// </summary>
    public IDuplexPipe AsDuplexPipe()
    {
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false);
        var input = new Pipe(options);
        var output = new Pipe(options);
        _ = PumpInAsync(input.Writer);
        _outputWriter = output.Writer;
        _outputPump = PumpOutAsync(output.Reader);
        return new DuplexPipe(input.Reader, output.Writer);
    }

    private async Task PumpInAsync(PipeWriter writer)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                int n = await Socket.ReceiveAsync(writer.GetMemory(4096)).ConfigureAwait(false);
                if (n == 0) break;
                writer.Advance(n);
                if ((await writer.FlushAsync().ConfigureAwait(false)).IsCompleted) break;
            }
        }
        catch (NetLabSocketException e) { error = new IOException(e.Message, e); }
        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task PumpOutAsync(PipeReader reader)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                foreach (var segment in result.Buffer) await Socket.SendAsync(segment).ConfigureAwait(false);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
            Socket.Shutdown(ShutdownHow.Write);
        }
        catch (NetLabSocketException e) { error = new IOException(e.Message, e); }
        await reader.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>Sends what the output pipe still holds before closing (a transport's graceful shutdown).</summary>
    public override async ValueTask DisposeAsync()
    {
        if (_outputWriter is not null && _outputPump is not null)
        {
            await _outputWriter.CompleteAsync();
            await _outputPump;
        }
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsSocket) Socket.Close();
        base.Dispose(disposing);
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
