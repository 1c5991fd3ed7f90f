using System.Buffers;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Rpc;

public sealed class RpcFrameScannerTests
{
    [Fact]
    public void Frames_are_found_in_every_segmentation_of_a_recorded_stream()
    {
        foreach (var vector in RecordedVectors.All())
        {
            var pdus = vector.Connections[0].Messages.Select(m => m.Bytes!).ToList();
            byte[] stream = VectorFacts.Concat(pdus);
            foreach (var (shape, sequence) in Sequences.AllShapes(stream))
            {
                var buffer = sequence;
                var found = new List<byte[]>();
                OperationStatus status;
                while ((status = RpcFrameScanner.TryReadFrame(ref buffer, 5840, out var frame, out var header, out var error)) == OperationStatus.Done)
                {
                    Assert.Null(error);
                    Assert.Equal(frame.Length, header.FragmentLength);
                    found.Add(frame.ToArray());
                }

                Assert.Equal(OperationStatus.NeedMoreData, status);
                Assert.Equal(0, buffer.Length);
                Assert.True(pdus.Count == found.Count && pdus.Zip(found).All(p => p.First.AsSpan().SequenceEqual(p.Second)), $"{vector} {shape}");
            }
        }
    }

    [Fact]
    public void Header_fields_are_decoded()
    {
        byte[] pdu = Pdus.Request(0x01020304, 1, true, [9, 9]);
        var buffer = Sequences.OneBytePerSegment(pdu);
        Assert.Equal(OperationStatus.Done, RpcFrameScanner.TryReadFrame(ref buffer, 600, out _, out var header, out _));
        Assert.Equal(new RpcHeader(RpcPacketType.Request, RpcPacketFlags.FirstAndLast, (ushort)pdu.Length, 0, 0x01020304), header);
    }

    [Fact]
    public void Incomplete_input_consumes_nothing()
    {
        byte[] pdu = Pdus.StandardBind();
        for (int length = 0; length < pdu.Length; length++)
        {
            var buffer = Sequences.Split(pdu.AsSpan(0, length), length / 2);
            Assert.Equal(OperationStatus.NeedMoreData, RpcFrameScanner.TryReadFrame(ref buffer, 5840, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void Frame_longer_than_the_limit_is_invalid_before_it_is_buffered()
    {
        byte[] pdu = Pdus.StandardBind();
        var buffer = new ReadOnlySequence<byte>(pdu, 0, 16);
        Assert.Equal(OperationStatus.InvalidData, RpcFrameScanner.TryReadFrame(ref buffer, 159, out _, out _, out var error));
        Assert.Contains("exceeds", error, StringComparison.Ordinal);
        Assert.Equal(16, buffer.Length);

        buffer = new ReadOnlySequence<byte>(pdu);
        Assert.Equal(OperationStatus.Done, RpcFrameScanner.TryReadFrame(ref buffer, 160, out _));
    }
}
