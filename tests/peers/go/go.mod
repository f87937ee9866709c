module ambit/peers

go 1.19
