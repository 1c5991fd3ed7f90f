using System.Security.Cryptography;

namespace KmsFarm.Protocol.Identity;

/// <summary>Where identity generation gets its random numbers: <see cref="Crypto"/> by default, a seeded
/// <see cref="Random"/> in tests (<see cref="FromRandom"/>).</summary>
public abstract class RandomSource
{
    /// <summary>The system CSPRNG (<see cref="RandomNumberGenerator"/>). Thread-safe.</summary>
    public static RandomSource Crypto { get; } = new CryptoSource();

    /// <summary>Wraps <paramref name="random"/> (e.g. <c>new Random(42)</c> for reproducible tests). Not thread-safe.</summary>
    public static RandomSource FromRandom(Random random) => new SystemRandomSource(random ?? throw new ArgumentNullException(nameof(random)));

    /// <summary>A uniformly distributed integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    public abstract long NextInt64(long minInclusive, long maxExclusive);

    public abstract void NextBytes(Span<byte> destination);

    private sealed class CryptoSource : RandomSource
    {
        public override long NextInt64(long minInclusive, long maxExclusive)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(minInclusive, maxExclusive);
            ulong range = (ulong)(maxExclusive - minInclusive);
            if (range <= int.MaxValue)
            {
                return minInclusive + RandomNumberGenerator.GetInt32((int)range);
            }

            // Rejection sampling over the smallest power-of-two mask that covers the range.
            ulong mask = ulong.MaxValue >> System.Numerics.BitOperations.LeadingZeroCount(range - 1);
            Span<byte> bytes = stackalloc byte[8];
            while (true)
            {
                RandomNumberGenerator.Fill(bytes);
                ulong candidate = BitConverter.ToUInt64(bytes) & mask;
                if (candidate < range)
                {
                    return minInclusive + (long)candidate;
                }
            }
        }

        public override void NextBytes(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
    }

    private sealed class SystemRandomSource(Random random) : RandomSource
    {
        public override long NextInt64(long minInclusive, long maxExclusive) => random.NextInt64(minInclusive, maxExclusive);

        public override void NextBytes(Span<byte> destination) => random.NextBytes(destination);
    }
}
