# Всплывающие сообщения, которые код на Rust собирает со значениями (crate::i18n::phrase): показываются один раз, на следующей странице.

## Клиенты ($client: «Имя <адрес>»)
flash-client-added = Клиент { $client } добавлен.
flash-client-saved = Клиент { $client } сохранён.
flash-client-deleted = Клиент { $client } удалён.
flash-clients-imported = { $inserted ->
        [one] Импортирован { $inserted } клиент
        [few] Импортировано { $inserted } клиента
       *[many] Импортировано { $inserted } клиентов
    }. Пропущено: { $skipped } { $skipped ->
        [one] дубликат
        [few] дубликата
       *[many] дубликатов
    } и { $invalid } { $invalid ->
        [one] неверная строка
        [few] неверные строки
       *[many] неверных строк
    }.

## Сообщения
flash-message-added = Сообщение «{ $subject }» добавлено.
flash-message-saved = Сообщение «{ $subject }» сохранено.
flash-message-deleted = Сообщение «{ $subject }» удалено.
flash-message-test-sent = Тестовое письмо отправлено на { $address }.

## Рассылки ($mailing: «#7»)
flash-mailing-created = Рассылка «{ $mailing }» создана.
flash-mailing-saved = Рассылка «{ $mailing }» сохранена.
flash-mailing-deleted = Рассылка «{ $mailing }» удалена.
flash-mailing-sending = «{ $mailing }» отправляется.
flash-mailing-still-sending = «{ $mailing }» ещё отправляется: больше ничего в очередь не поставлено.
flash-mailing-enabled = «{ $mailing }» включена.
flash-mailing-disabled = «{ $mailing }» отключена: новых писем не будет.

## Стоп-лист
flash-suppression-added = Адрес { $address } внесён в ваш стоп-лист: писем на него не будет.
flash-suppression-removed = Адрес { $address } убран из вашего стоп-листа: ваши рассылки снова будут на него отправляться.

## Учётная запись
flash-account-registered = Почти готово: мы отправили письмо на { $address }. Перейдите по ссылке из него, затем войдите.
flash-account-confirmed = Адрес { $address } подтверждён. Теперь можно войти.
flash-token-revoked = Токен «{ $name }» отозван: он больше не действует.
flash-sender-link-sent = Сохранено. Мы отправили ссылку на { $address }: ответы будут приходить туда, когда её откроют.
flash-sender-link-pending = Сохранено. Ссылка на { $address } уже была отправлена недавно: откройте её или попробуйте позже, чтобы получить новую.

## Действия админки. Пользователи: $own — 1, если пропущена своя учётная запись ($me),
## $supers — сколько пропущено суперпользователей (менеджер не может их блокировать), $superusers — их адреса.
flash-admin-users-blocked = { $count ->
        [one] Заблокирован { $count } пользователь
        [few] Заблокированы { $count } пользователя
       *[many] Заблокировано { $count } пользователей
    }.{ $own ->
        [0] {""}
       *[other] {" "}Пропущена ваша учётная запись ({ $me }).
    }{ $supers ->
        [0] {""}
        [1] {" "}Пропущен суперпользователь: { $superusers }.
       *[other] {" "}Пропущены суперпользователи: { $superusers }.
    }
flash-admin-users-unblocked = { $count ->
        [one] Разблокирован { $count } пользователь
        [few] Разблокированы { $count } пользователя
       *[many] Разблокировано { $count } пользователей
    }.{ $own ->
        [0] {""}
       *[other] {" "}Пропущена ваша учётная запись ({ $me }).
    }{ $supers ->
        [0] {""}
        [1] {" "}Пропущен суперпользователь: { $superusers }.
       *[other] {" "}Пропущены суперпользователи: { $superusers }.
    }
flash-admin-mailings-enabled = { $count ->
        [one] Включена { $count } рассылка
        [few] Включены { $count } рассылки
       *[many] Включено { $count } рассылок
    }.
flash-admin-mailings-disabled = { $count ->
        [one] Отключена { $count } рассылка
        [few] Отключены { $count } рассылки
       *[many] Отключено { $count } рассылок
    }.
flash-admin-posts-published = { $count ->
        [one] Опубликована { $count } запись
        [few] Опубликованы { $count } записи
       *[many] Опубликовано { $count } записей
    }.
flash-admin-posts-unpublished = { $count ->
        [one] Снята с публикации { $count } запись
        [few] Сняты с публикации { $count } записи
       *[many] Снято с публикации { $count } записей
    }.
