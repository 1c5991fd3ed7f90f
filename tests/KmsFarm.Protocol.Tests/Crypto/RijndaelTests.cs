using System.Security.Cryptography;
using KmsFarm.Protocol.Crypto;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace KmsFarm.Protocol.Tests.Crypto;

/// <summary>Known-answer tests of PROTOCOL-NOTES §5.2, run on the AES-NI path and on the software path.</summary>
public sealed class RijndaelTests
{
    public static TheoryData<bool> Paths => new() { true, false };

    private static KmsKeyMaterial Keys(bool aesNi) => aesNi ? KmsKeyMaterial.Default : KmsKeyMaterial.Software;

    private static byte[] Counting(int length) => Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

    [Fact]
    public void Paths_are_what_they_claim()
    {
        Assert.Equal(X86Aes.IsSupported, KmsKeyMaterial.Default.V6.UsesAesNi);
        Assert.False(KmsKeyMaterial.Software.V6.UsesAesNi);
        Assert.False(KmsKeyMaterial.Software.V4Mac.UsesAesNi);
        Assert.Equal(10, KmsKeyMaterial.Default.V5.Rounds);
        Assert.Equal(11, KmsKeyMaterial.Default.V4Mac.Rounds);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void V5_known_answer(bool aesNi)
    {
        var output = new byte[16];
        Keys(aesNi).V5.EncryptBlock(Counting(16), output);
        Assert.Equal("8d77cb43633c62cbe1d15d570c23dc75", Convert.ToHexStringLower(output));

        var back = new byte[16];
        Keys(aesNi).V5.DecryptBlock(output, back);
        Assert.Equal(Counting(16), back);
    }

    [Fact]
    public void V5_matches_the_platform_aes()
    {
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString("CD7E796F2AB25DCB55FFC8EF8364C470");
        var input = RandomNumberGenerator.GetBytes(64);
        var iv = RandomNumberGenerator.GetBytes(16);
        var expected = aes.EncryptCbc(input, iv, PaddingMode.None);
        foreach (var keys in new[] { KmsKeyMaterial.Default, KmsKeyMaterial.Software })
        {
            var actual = new byte[64];
            keys.V5.EncryptCbc(iv, input, actual);
            Assert.Equal(expected, actual);
            keys.V5.DecryptCbc(iv, actual, actual);
            Assert.Equal(input, actual);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void V6_known_answer_with_the_modified_schedule(bool aesNi)
    {
        var output = new byte[16];
        Keys(aesNi).V6.EncryptBlock(Counting(16), output);
        Assert.Equal("ca89ca11b2c4e77a94e806af17136b38", Convert.ToHexStringLower(output));

        var back = new byte[16];
        Keys(aesNi).V6.DecryptBlock(output, back);
        Assert.Equal(Counting(16), back);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void V6_key_without_the_tweak_is_plain_aes(bool aesNi)
    {
        var key = RijndaelKey.Expand(Convert.FromHexString("A94A4195E201432D9BCB460405D84A21"), aesNi);
        var output = new byte[16];
        key.EncryptBlock(Counting(16), output);
        Assert.Equal("2df55e42df325361b350af775ce6f279", Convert.ToHexStringLower(output));
    }

    [Fact]
    public void V6_modified_schedule_is_the_recorded_one()
    {
        const string expected =
            "a94a4195e201432d9bcb460405d84a21c99cbcfe2b9dffd3b056b9d7b58ef3f6d291fe2bf90c01f8495ab82ffcd44bd9" +
            "9e22cb9b672eca632e74724cd2a039950530e12e111e2b4d3f6a5901edca609412e0c37b03fee8363c94b137d15ed1a3" +
            "63dec9456920217355b4904484ea41e7ad5d5d1ac47d7c6991c9ec2d1523adcaefc82943cfb5552a5e7cb9074b5f14cd" +
            "df3294f01087c1da4efb78dd05a46c10a0625e9bb0e59f41fe1ee79cfbba8b8c";
        Assert.Equal(176, KmsKeyMaterial.Default.V6.Schedule.Length);
        Assert.Equal(expected, Convert.ToHexStringLower(KmsKeyMaterial.Default.V6.Schedule));
        Assert.Equal(expected, Convert.ToHexStringLower(KmsKeyMaterial.Software.V6.Schedule));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void V4_mac_of_48_counting_bytes(bool aesNi)
    {
        var mac = new byte[16];
        Keys(aesNi).V4Mac.CbcMac(Counting(48), mac);
        Assert.Equal("748a280fbdc3a4784904d530a5c75482", Convert.ToHexStringLower(mac));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void V4_mac_of_236_bytes(bool aesNi)
    {
        var message = Enumerable.Range(0, 236).Select(i => (byte)((7 * i) + 3)).ToArray();
        var mac = new byte[16];
        Keys(aesNi).V4Mac.CbcMac(message, mac);
        Assert.Equal("188ea35eee5a3acffbf5229892b0ff2f", Convert.ToHexStringLower(mac));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void V4_cipher_round_trips(bool aesNi)
    {
        var input = RandomNumberGenerator.GetBytes(16);
        var cipher = new byte[16];
        var back = new byte[16];
        Keys(aesNi).V4Mac.EncryptBlock(input, cipher);
        Keys(aesNi).V4Mac.DecryptBlock(cipher, back);
        Assert.Equal(input, back);
    }

    [Fact]
    public void Both_paths_agree_on_random_cbc_data_in_place()
    {
        var iv = RandomNumberGenerator.GetBytes(16);
        var data = RandomNumberGenerator.GetBytes(240);
        foreach (var select in new Func<KmsKeyMaterial, RijndaelKey>[] { k => k.V4Mac, k => k.V5, k => k.V6 })
        {
            var hardware = data.ToArray();
            var software = data.ToArray();
            select(KmsKeyMaterial.Default).EncryptCbc(iv, hardware, hardware);
            select(KmsKeyMaterial.Software).EncryptCbc(iv, software, software);
            Assert.Equal(hardware, software);
            Assert.NotEqual(data, hardware);

            select(KmsKeyMaterial.Default).DecryptCbc(iv, hardware, hardware);
            select(KmsKeyMaterial.Software).DecryptCbc(iv, software, software);
            Assert.Equal(data, hardware);
            Assert.Equal(data, software);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(236)]
    public void Mac_pads_with_0x80_and_always_at_least_one_byte(int length)
    {
        var message = RandomNumberGenerator.GetBytes(length);
        int paddedLength = (length + 16) & ~15;
        var padded = new byte[paddedLength];
        message.CopyTo(padded, 0);
        padded[length] = 0x80;
        var cbc = new byte[paddedLength];
        KmsKeyMaterial.Software.V4Mac.EncryptCbc(new byte[16], padded, cbc);

        foreach (var keys in new[] { KmsKeyMaterial.Default, KmsKeyMaterial.Software })
        {
            var mac = new byte[16];
            keys.V4Mac.CbcMac(message, mac);
            Assert.Equal(cbc[^16..], mac);
        }
    }

    [Fact]
    public void Pkcs7_pads_one_to_sixteen_bytes_and_rejects_bad_padding()
    {
        var buffer = new byte[48];
        Assert.Equal(16, Pkcs7.Pad(buffer, 12));
        Assert.Equal(new byte[] { 4, 4, 4, 4 }, buffer[12..16]);
        Assert.Equal(12, Pkcs7.Unpad(buffer.AsSpan(0, 16)));
        Assert.Equal(32, Pkcs7.Pad(buffer, 16));
        Assert.All(buffer[16..32], b => Assert.Equal(16, b));
        Assert.Equal(16, Pkcs7.Unpad(buffer.AsSpan(0, 32)));

        buffer[13] = 5;
        Assert.Equal(-1, Pkcs7.Unpad(buffer.AsSpan(0, 16)));
        buffer[15] = 0;
        Assert.Equal(-1, Pkcs7.Unpad(buffer.AsSpan(0, 16)));
        buffer[15] = 17;
        Assert.Equal(-1, Pkcs7.Unpad(buffer.AsSpan(0, 16)));
        Assert.Equal(-1, Pkcs7.Unpad(buffer.AsSpan(0, 15)));
        Assert.Equal(-1, Pkcs7.Unpad([]));
    }

    [Fact]
    public void Hmac_time_slot_and_key_match_a_recorded_exchange()
    {
        // v6_win10pro_ndr32: client time 134397738180000000.
        ulong slot = KmsHmac.TimeSlot(134397738180000000);
        Assert.Equal("f11e254f19371933", Convert.ToHexStringLower(BitConverter.GetBytes(slot)));
        var key = new byte[16];
        KmsHmac.DeriveKey(slot, key);
        Assert.Equal("2ccea25979db8b01c60a078c79e76ca8", Convert.ToHexStringLower(key));
    }

    [Fact]
    public void Hmac_key_cache_gives_the_same_mac_as_a_fresh_derivation()
    {
        var message = RandomNumberGenerator.GetBytes(232);
        ulong a = KmsHmac.TimeSlot(134397738180000000);
        ulong b = a + KmsHmac.SlotWidth;
        foreach (ulong slot in new[] { a, b, a, a, b })
        {
            var cached = new byte[16];
            var fresh = new byte[16];
            KmsHmac.Compute(slot, message, cached);
            KmsHmac.Compute(slot, message, fresh, remember: false);
            Assert.Equal(fresh, cached);

            var key = new byte[16];
            KmsHmac.DeriveKey(slot, key);
            Assert.Equal(HMACSHA256.HashData(key, message)[16..], fresh);
        }
    }

    [Fact]
    public void Key_material_never_prints_key_bytes()
    {
        Assert.DoesNotContain("A94A", KmsKeyMaterial.Default.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("a94a", KmsKeyMaterial.Default.V6.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}
