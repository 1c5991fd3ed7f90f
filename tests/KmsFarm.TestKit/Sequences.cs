using System.Buffers;

namespace KmsFarm.TestKit;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/> values, to prove parsers do not depend on how the bytes
/// arrived (RESPite-style: right-sized, every two-segment split, one byte per segment).</summary>
public static class Sequences
{
    /// <summary>A sequence made of the given segments, in order (empty segments allowed).</summary>
    public static ReadOnlySequence<byte> FromSegments(params ReadOnlyMemory<byte>[] segments)
    {
        if (segments.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(segments[0], 0);
        var last = first;
        for (int i = 1; i < segments.Length; i++)
        {
            last = last.Append(segments[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Two segments: bytes [0, at) and [at, end). Each is copied into its own array so that reads past a
    /// segment cannot accidentally see the neighbour.</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, int at) =>
        FromSegments(data[..at].ToArray(), data[at..].ToArray());

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlySpan<byte> data)
    {
        var segments = new ReadOnlyMemory<byte>[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            segments[i] = new[] { data[i] };
        }

        return FromSegments(segments);
    }

    /// <summary>The data in the middle of a larger array (offset and trailing slack), as a single segment.</summary>
    public static ReadOnlySequence<byte> Offset(ReadOnlySpan<byte> data, int offset = 7)
    {
        var array = new byte[data.Length + offset + 5];
        data.CopyTo(array.AsSpan(offset));
        return new ReadOnlySequence<byte>(array, offset, data.Length);
    }

    /// <summary>Every way to present <paramref name="data"/>: right-sized, offset, each two-segment split, one byte per
    /// segment. The string says which, for assertion messages.</summary>
    public static IEnumerable<(string Name, ReadOnlySequence<byte> Sequence)> AllShapes(byte[] data)
    {
        yield return ("single", new ReadOnlySequence<byte>(data));
        yield return ("offset", Offset(data));
        for (int at = 0; at <= data.Length; at++)
        {
            yield return ("split@" + at, Split(data, at));
        }

        yield return ("bytewise", OneBytePerSegment(data));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
