using System.Buffers;

namespace KmsFarm.Fuzz;

/// <summary>A byte stream cut into chunks that "arrive" one after the other, like the buffers a PipeReader hands out:
/// the readable sequence always runs from the first unconsumed byte to the end of the last chunk received.</summary>
internal sealed class Segments
{
    /// <summary>Past this many chunks the rest of the stream arrives as one (keeps a 1 MB input cheap).</summary>
    public const int MaxChunks = 4096;

    private readonly List<Segment> _chunks = [];

    /// <param name="chunking">0: the whole stream in one chunk; 1: one byte per chunk; n ≥ 2: lengths drawn from
    /// 1..n by a generator seeded with n (deterministic).</param>
    public Segments(ReadOnlyMemory<byte> stream, byte chunking)
    {
        uint state = 0x9E3779B9u ^ chunking;
        int offset = 0;
        Segment? previous = null;
        while (offset < stream.Length)
        {
            int length;
            if (chunking == 0 || _chunks.Count == MaxChunks - 1)
            {
                length = stream.Length - offset;
            }
            else
            {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                length = Math.Min(stream.Length - offset, 1 + (int)(state % chunking));
            }

            var segment = new Segment(stream.Slice(offset, length), offset);
            previous?.SetNext(segment);
            previous = segment;
            _chunks.Add(segment);
            offset += length;
        }
    }

    public int Count => _chunks.Count;

    /// <summary>The sequence from <paramref name="start"/> (a position of an earlier sequence, or null for the beginning)
    /// to the end of chunk <paramref name="lastChunk"/>.</summary>
    public ReadOnlySequence<byte> Readable(SequencePosition? start, int lastChunk)
    {
        var end = _chunks[lastChunk];
        if (start is not { } position || position.GetObject() is null)
        {
            return new ReadOnlySequence<byte>(_chunks[0], 0, end, end.Memory.Length);
        }

        return new ReadOnlySequence<byte>((Segment)position.GetObject()!, position.GetInteger(), end, end.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
