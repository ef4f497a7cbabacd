(module
  (memory (export "memory") 1)
  (func (export "crc32") (param $crc i32) (param $p i32) (param $n i32) (result i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $end i32)
    (local.set $crc (i32.xor (local.get $crc) (i32.const -1)))
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -16))))
    (block $done16
      (loop $l16
        (br_if $done16 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $w0 (i32.xor (i32.load (local.get $p)) (local.get $crc)))
        (local.set $w1 (i32.load offset=4 (local.get $p)))
        (local.set $w2 (i32.load offset=8 (local.get $p)))
        (local.set $w3 (i32.load offset=12 (local.get $p)))
        (local.set $crc (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.xor (i32.load offset=15360 (i32.shl (i32.and (local.get $w0) (i32.const 255)) (i32.const 2))) (i32.load offset=14336 (i32.shl (i32.and (i32.shr_u (local.get $w0) (i32.const 8)) (i32.const 255)) (i32.const 2)))) (i32.load offset=13312 (i32.shl (i32.and (i32.shr_u (local.get $w0) (i32.const 16)) (i32.const 255)) (i32.const 2)))) (i32.load offset=12288 (i32.shl (i32.shr_u (local.get $w0) (i32.const 24)) (i32.const 2)))) (i32.load offset=11264 (i32.shl (i32.and (local.get $w1) (i32.const 255)) (i32.const 2)))) (i32.load offset=10240 (i32.shl (i32.and (i32.shr_u (local.get $w1) (i32.const 8)) (i32.const 255)) (i32.const 2)))) (i32.load offset=9216 (i32.shl (i32.and (i32.shr_u (local.get $w1) (i32.const 16)) (i32.const 255)) (i32.const 2)))) (i32.load offset=8192 (i32.shl (i32.shr_u (local.get $w1) (i32.const 24)) (i32.const 2)))) (i32.load offset=7168 (i32.shl (i32.and (local.get $w2) (i32.const 255)) (i32.const 2)))) (i32.load offset=6144 (i32.shl (i32.and (i32.shr_u (local.get $w2) (i32.const 8)) (i32.const 255)) (i32.const 2)))) (i32.load offset=5120 (i32.shl (i32.and (i32.shr_u (local.get $w2) (i32.const 16)) (i32.const 255)) (i32.const 2)))) (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $w2) (i32.const 24)) (i32.const 2)))) (i32.load offset=3072 (i32.shl (i32.and (local.get $w3) (i32.const 255)) (i32.const 2)))) (i32.load offset=2048 (i32.shl (i32.and (i32.shr_u (local.get $w3) (i32.const 8)) (i32.const 255)) (i32.const 2)))) (i32.load offset=1024 (i32.shl (i32.and (i32.shr_u (local.get $w3) (i32.const 16)) (i32.const 255)) (i32.const 2)))) (i32.load offset=0 (i32.shl (i32.shr_u (local.get $w3) (i32.const 24)) (i32.const 2)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l16)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $n) (i32.const 15))))
    (block $done
      (loop $l1
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc (i32.xor
          (i32.load (i32.shl (i32.and (i32.xor (local.get $crc) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))
          (i32.shr_u (local.get $crc) (i32.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l1)))
    (i32.xor (local.get $crc) (i32.const -1))))
