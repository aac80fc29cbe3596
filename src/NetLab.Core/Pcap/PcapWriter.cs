using System.Buffers.Binary;

namespace NetLab.Core.Pcap;

/// <summary>
/// A classic libpcap file with nanosecond timestamps (magic 0xa1b23c4d) and Ethernet link type
/// (LINKTYPE_ETHERNET = 1), one per captured device. Timestamps are virtual time, so the same
/// scenario and seed give a byte-identical file.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    public const uint NanosecondMagic = 0xA1B23C4D;
    public const int LinkTypeEthernet = 1;
    public const int SnapLength = 262144;

    private readonly Stream _stream;
    private readonly byte[] _recordHeader = new byte[16];

    public long Frames { get; private set; }

    public PcapWriter(Stream stream, int linkType = LinkTypeEthernet)
    {
        _stream = stream;
        Span<byte> h = stackalloc byte[24];
        // The file header is written in the writer's (little-endian) byte order; readers detect it from the magic.
        BinaryPrimitives.WriteUInt32LittleEndian(h, NanosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);   // version major
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);   // version minor
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);    // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);  // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)linkType);
        _stream.Write(h);
    }

    public static PcapWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));

    public void Write(long timestampNs, ReadOnlySpan<byte> frame)
    {
        int captured = Math.Min(frame.Length, SnapLength);
        var h = _recordHeader.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)(timestampNs / 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(timestampNs % 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)frame.Length);
        _stream.Write(h);
        _stream.Write(frame[..captured]);
        Frames++;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>Reads a classic pcap (either timestamp resolution), for tests and tools.</summary>
public static class PcapReader
{
    public readonly record struct Record(long TimestampNs, byte[] Data, int OriginalLength);

    public static List<Record> ReadAll(Stream s)
    {
        var result = new List<Record>();
        Span<byte> h = stackalloc byte[24];
        s.ReadExactly(h);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(h);
        bool nano = magic == PcapWriter.NanosecondMagic;
        if (!nano && magic != 0xA1B2C3D4) throw new InvalidDataException($"not a little-endian pcap (magic 0x{magic:x8})");
        Span<byte> r = stackalloc byte[16];
        while (s.ReadAtLeast(r, 16, throwOnEndOfStream: false) == 16)
        {
            long sec = BinaryPrimitives.ReadUInt32LittleEndian(r);
            long frac = BinaryPrimitives.ReadUInt32LittleEndian(r[4..]);
            int incl = (int)BinaryPrimitives.ReadUInt32LittleEndian(r[8..]);
            int orig = (int)BinaryPrimitives.ReadUInt32LittleEndian(r[12..]);
            var data = new byte[incl];
            s.ReadExactly(data);
            result.Add(new Record(sec * 1_000_000_000 + (nano ? frac : frac * 1000), data, orig));
        }
        return result;
    }
}
